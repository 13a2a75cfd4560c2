// The machine a run came from, for the report: figures mean little without it.
import os from 'node:os';
import { filesystemType } from '../src/filesystem-type';
import type { Machine } from './model';
import { run } from './system';

async function version(command: string, args: string[], pattern: RegExp): Promise<string> {
  try {
    return pattern.exec(await run(command, args))?.[1] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export async function describeMachine(workDir: string): Promise<Machine> {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    filesystem: await filesystemType(workDir),
    node: process.version,
    containerd: await version('containerd', ['--version'], /containerd\S*\s+\S+\s+v?(\S+)/),
    go: await version('go', ['version'], /go version go(\S+)/),
  };
}
