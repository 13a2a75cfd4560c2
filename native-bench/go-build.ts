// Builds a Go program of this repo against Debian's packaged containerd
// source, in GOPATH mode as the conformance suites are built, once per change
// of its source. The program's directory is linked into a GOPATH of its own
// under workDir, and the binary lands in workDir/bin.
import fs from 'node:fs';
import path from 'node:path';
import { execFileAsync } from './system';

const SYSTEM_GOPATH = '/usr/share/gocode';

export async function buildGoProgram(source: string, binaryName: string, workDir: string): Promise<string> {
  const binary = path.join(workDir, 'bin', binaryName);
  const sourceTime = Math.max(...fs.readdirSync(source).map((f) => fs.statSync(path.join(source, f)).mtimeMs));
  if (fs.existsSync(binary) && fs.statSync(binary).mtimeMs > sourceTime) return binary;
  if (!fs.existsSync(path.join(SYSTEM_GOPATH, 'src/github.com/containerd/containerd'))) {
    throw new Error(`containerd's Go source is not in ${SYSTEM_GOPATH}: apt-get install golang-go golang-github-containerd-containerd-dev`);
  }
  const gopath = path.join(workDir, 'gopath');
  const link = path.join(gopath, 'src', 'strata', path.basename(source));
  await fs.promises.mkdir(path.dirname(link), { recursive: true });
  await fs.promises.rm(link, { force: true });
  await fs.promises.symlink(source, link);
  await fs.promises.mkdir(path.dirname(binary), { recursive: true });
  // Built beside and renamed, so an interrupted build never leaves a binary
  // newer than its source for the check above to accept.
  const partial = `${binary}.${process.pid}.partial`;
  try {
    await execFileAsync('go', ['build', '-o', partial, '.'], {
      cwd: link,
      env: { ...process.env, GO111MODULE: 'off', GOPATH: `${gopath}:${SYSTEM_GOPATH}`, GOFLAGS: '' },
    });
    await fs.promises.rename(partial, binary);
  } catch (err) {
    await fs.promises.rm(partial, { force: true });
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    throw new Error(`building ${path.basename(source)} (Go) failed: ${stderr.split('\n').slice(0, 3).join(' ')}`);
  }
  return binary;
}
