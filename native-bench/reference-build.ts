// Builds the Go reference program (native-bench/go/reference) from Debian's
// packaged containerd source, in GOPATH mode as the conformance suites are
// built, once per change of its source.
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/package-root';
import { execFileAsync } from './system';

const SYSTEM_GOPATH = '/usr/share/gocode';

export async function buildReference(workDir: string): Promise<string> {
  const source = path.join(packageRoot(), 'native-bench', 'go', 'reference');
  const binary = path.join(workDir, 'bin', 'containerd-reference');
  const sourceTime = Math.max(...fs.readdirSync(source).map((f) => fs.statSync(path.join(source, f)).mtimeMs));
  if (fs.existsSync(binary) && fs.statSync(binary).mtimeMs > sourceTime) return binary;
  if (!fs.existsSync(path.join(SYSTEM_GOPATH, 'src/github.com/containerd/containerd/archive'))) {
    throw new Error(`containerd's Go source is not in ${SYSTEM_GOPATH}: apt-get install golang-go golang-github-containerd-containerd-dev`);
  }
  const gopath = path.join(workDir, 'gopath');
  const link = path.join(gopath, 'src', 'strata', 'reference');
  await fs.promises.mkdir(path.dirname(link), { recursive: true });
  await fs.promises.rm(link, { force: true });
  await fs.promises.symlink(source, link);
  await fs.promises.mkdir(path.dirname(binary), { recursive: true });
  try {
    await execFileAsync('go', ['build', '-o', binary, '.'], {
      cwd: link,
      env: { ...process.env, GO111MODULE: 'off', GOPATH: `${gopath}:${SYSTEM_GOPATH}`, GOFLAGS: '' },
    });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    throw new Error(`building the Go reference failed: ${stderr.split('\n').slice(0, 3).join(' ')}`);
  }
  return binary;
}
