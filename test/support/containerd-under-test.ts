// Which containerd an end-to-end test of layer sharing runs. By default,
// Debian's containerd 1.6 with config/containerd-1.6.toml: it applies the
// layers itself, so strata runs with share_layers = "trusted" (it takes the
// chain ID containerd labels a layer with). With STRATA_CONTAINERD_BIN_DIR
// and STRATA_CONTAINERD_CONFIG=containerd-1.7.toml (a 1.7 built from
// containerd's repository), strata is also the differ and runs with the
// default, "verified".
import * as path from 'node:path';
import type { ShippedConfig } from '../../native-bench/harness/shipped-configs';

const binDir = process.env.STRATA_CONTAINERD_BIN_DIR;

/** The containerd binary; undefined for Debian's, on PATH. */
export const CONTAINERD = binDir === undefined ? undefined : path.join(binDir, 'containerd');
export const CONFIG = (process.env.STRATA_CONTAINERD_CONFIG ?? 'containerd-1.6.toml') as ShippedConfig;
export const SHARE_LAYERS = CONFIG === 'containerd-1.6.toml' ? 'trusted' : 'verified';
