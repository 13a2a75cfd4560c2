// A failed system call as people read it, in Go's words, as containerd's
// messages are: "mkdir /proc/x: no such file or directory". Node's own
// message leads with the errno's name: "ENOENT: no such file or directory,
// mkdir '/proc/x'".
import { getSystemErrorMap } from 'node:util';

export function systemErrorText(err: unknown): string {
  const { errno, syscall, path } = err as Partial<NodeJS.ErrnoException>;
  const meaning = errno === undefined ? undefined : getSystemErrorMap().get(errno)?.[1];
  if (meaning === undefined || !syscall || !path) return err instanceof Error ? err.message : String(err);
  return `${syscall} ${path}: ${meaning}`;
}
