// A failed system call as people read it, in Go's words, as containerd's
// messages are: "mkdir /proc/x: no such file or directory". Node's own
// message leads with the errno's name: "ENOENT: no such file or directory,
// mkdir '/proc/x'".
import { getSystemErrorMap } from 'node:util';

export function systemErrorText(err: unknown): string {
  const { syscall, path } = err as Partial<NodeJS.ErrnoException>;
  const meaning = systemErrorMeaning(err);
  if (meaning === undefined || !syscall || !path) return err instanceof Error ? err.message : String(err);
  return `${syscall} ${path}: ${meaning}`;
}

/** What the errno says, "no such file or directory", for a message that names the path itself; undefined for an error that is no system call's. */
export function systemErrorMeaning(err: unknown): string | undefined {
  const { errno } = err as Partial<NodeJS.ErrnoException>;
  return errno === undefined ? undefined : getSystemErrorMap().get(errno)?.[1];
}
