// The package's own directory (package.json, proto/, build/, native-bench/),
// found above wherever this file was compiled to: dist/src/ in the package,
// out/src/ in the test build.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

let found: string | undefined;

export function packageRoot(): string {
  if (found) return found;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'proto', 'containerd'))) {
      found = dir;
      return dir;
    }
    if (dir === path.dirname(dir)) throw new Error(`no strata package above ${__dirname}`);
  }
}

/** The version in the package's package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
