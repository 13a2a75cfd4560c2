// `strata config check FILE` and `strata config default`.
import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_KEYS, DEFAULTS, type Config } from '../config/config';
import { resolveConfig } from '../config/config-file';
import { packageRoot } from '../package-root';

/** The settings by their names in the file, as `--json` prints them. */
function byKeyName(config: Config): Record<string, unknown> {
  return Object.fromEntries(CONFIG_KEYS.map((key) => [key.name, config[key.field]]));
}

export function checkConfig(file: string, flags: { json?: boolean }): void {
  // As serve would read it with no flags: what passes here passes there.
  const config = resolveConfig({ config: file });
  if (flags.json) process.stdout.write(`${JSON.stringify({ file, valid: true, config: byKeyName(config) }, null, 2)}\n`);
  else process.stdout.write(`${file}: valid\n`);
}

export function printDefaultConfig(flags: { json?: boolean }): void {
  if (flags.json) process.stdout.write(`${JSON.stringify(byKeyName(DEFAULTS), null, 2)}\n`);
  else process.stdout.write(fs.readFileSync(path.join(packageRoot(), 'config/strata.toml'), 'utf8'));
}
