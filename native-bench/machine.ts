// The machine a run came from, for the report: figures mean little without it.
import os from 'node:os';
import { filesystemType } from '../src/filesystem-type';
import { containerdVersion } from './harness/containerd-version';
import type { Machine } from './model';
import { run } from './system';

async function version(command: string, args: string[], pattern: RegExp): Promise<string> {
  try {
    return pattern.exec(await run(command, args))?.[1] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/** `containerd` is the binary the run used. */
export async function describeMachine(workDir: string, containerd: string): Promise<Machine> {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    filesystem: await filesystemType(workDir),
    node: process.version,
    containerd: await containerdVersion(containerd).catch(() => 'not installed'),
    go: await version('go', ['version'], /go version go(\S+)/),
  };
}
