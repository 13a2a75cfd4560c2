// Which containerd a run uses, told by its version: that decides which of
// the configs strata ships it starts from, and so whether strata is its
// differ as well as its content store and snapshotter.
import { run } from '../system';
import type { ShippedConfig } from './shipped-configs';

/** The version `containerd --version` prints: 1.6.20~ds1 (Debian's), 1.7.13+unknown (built from source), 1.7.13. */
export async function containerdVersion(binary: string): Promise<string> {
  const printed = await run(binary, ['--version']);
  const version = /^containerd\s+\S+\s+v?(\d+\.\d+\.\d+\S*)/m.exec(printed)?.[1];
  if (version === undefined) throw new Error(`${binary} --version printed ${JSON.stringify(printed.trim())}, not a containerd version`);
  return version;
}

/**
 * The shipped config for a containerd version. The diff proxy came in
 * 1.7.4: from there strata unpacks too (containerd-1.7.toml). Before it,
 * containerd panics at start on a proxy plugin of type "diff", so strata is
 * content store and snapshotter only (containerd-1.6.toml). containerd 2
 * reads another config version, which this harness does not write.
 */
export function shippedConfigForVersion(version: string): ShippedConfig {
  const [major, minor, patch] = version.split(/[.~+-]/).map(Number);
  if (major !== 1 || minor < 6) throw new Error(`containerd ${version}: strata bench runs containerd 1.6 and 1.7`);
  return minor > 7 || (minor === 7 && patch >= 4) ? 'containerd-1.7.toml' : 'containerd-1.6.toml';
}
