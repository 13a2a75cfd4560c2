// The containerd configs strata ships (config/containerd-*.toml), parsed, and
// pointed at a test's or the bench's own strata: every proxy plugin at its
// socket, and the exported root at its root.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'smol-toml';
import type { TomlTable } from './containerd';
import { packageRoot } from '../../src/package-root';

export type ShippedConfig = 'containerd-1.6.toml' | 'containerd-1.7.toml' | 'containerd-2.toml';

export const SHIPPED_CONFIGS: ShippedConfig[] = ['containerd-1.6.toml', 'containerd-1.7.toml', 'containerd-2.toml'];

export interface ProxyPlugin {
  type: string;
  address: string;
  capabilities?: string[];
  exports?: Record<string, string>;
}

export function readShippedConfig(name: ShippedConfig): TomlTable {
  return parse(fs.readFileSync(path.join(packageRoot(), 'config', name), 'utf8')) as TomlTable;
}

export function proxyPlugins(config: TomlTable): Record<string, ProxyPlugin> {
  return (config.proxy_plugins ?? {}) as Record<string, ProxyPlugin>;
}

/** The shipped config with its proxies on `socket` and its exported root `root`. */
export function shippedConfigFor(name: ShippedConfig, strata: { socket: string; root: string }): TomlTable {
  const config = readShippedConfig(name);
  const proxies = Object.fromEntries(
    Object.entries(proxyPlugins(config)).map(([id, plugin]) => [
      id,
      { ...plugin, address: strata.socket, ...(plugin.exports ? { exports: { ...plugin.exports, root: strata.root } } : {}) },
    ]),
  );
  return { ...config, proxy_plugins: proxies };
}
