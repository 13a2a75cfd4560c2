// Proof that a piece of work releases every file it opens: the open file
// descriptors in /proc/self/fd are counted before and after, and a FileHandle
// left for the garbage collector (Node warns "Closing file descriptor N on
// garbage collection") fails the check even though GC then closes it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** What each open descriptor of a process refers to: paths, sockets, pipes. */
export function openFds(pid: number | 'self' = 'self'): string[] {
  const dir = `/proc/${pid}/fd`;
  const targets: string[] = [];
  for (const fd of fs.readdirSync(dir)) {
    try {
      targets.push(fs.readlinkSync(`${dir}/${fd}`));
    } catch {
      // Closed while we looked (the readdir's own descriptor among them).
    }
  }
  return targets.sort();
}

/** The descriptors in `after` that were not in `before`, by target. */
export function newFds(before: string[], after: string[]): string[] {
  const left = [...before];
  return after.filter((target) => {
    const i = left.indexOf(target);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

/** Closing is asynchronous: give it, and the collector's finalizers, a moment. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await sleep(20);
    (globalThis as { gc?: () => void }).gc?.();
  }
  await sleep(20);
}

/**
 * Runs work and checks that it leaves no descriptor open in this process. A
 * server answering a cancelled call releases its files when the cancel
 * arrives, a moment later, so the check waits up to `graceMs` for them.
 */
export async function withoutFdLeaks<T>(work: () => Promise<T>, graceMs = 0): Promise<T> {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => {
    if (/Closing file descriptor/.test(warning.message)) warnings.push(warning.message);
  };
  process.on('warning', onWarning);
  try {
    await settle();
    const before = openFds();
    const result = await work();
    const deadline = Date.now() + graceMs;
    await settle();
    while (newFds(before, openFds()).length > 0 && Date.now() < deadline) await settle();
    assert.deepEqual(warnings, [], 'a file handle was left to the garbage collector');
    assert.deepEqual(newFds(before, openFds()), [], 'file descriptors were left open');
    return result;
  } finally {
    process.off('warning', onWarning);
  }
}
