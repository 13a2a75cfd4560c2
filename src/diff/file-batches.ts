// Buffered files go to the thread pool in batches. Queueing a trip costs the
// JS thread about 25 µs (a pool thread's wake-up), more than writing a small
// file takes on the pool; a batch pays it once.
import { syscalls, type WrittenFile } from '../native/syscalls';

/** Enough for each of libuv's four threads to have a batch while 64 files are in flight. */
const BATCH_FILES = 16;
const BATCH_BYTES = 1 << 20;

interface Pending {
  file: WrittenFile;
  resolve(): void;
  reject(err: Error): void;
}

export class FileBatches {
  private pending: Pending[] = [];
  private bytes = 0;
  private flushScheduled = false;

  /** Writes the file in the next batch; a batch that does not fill goes when the event loop next turns. */
  write(file: WrittenFile): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ file, resolve, reject });
      this.bytes += file[1].length;
      if (this.pending.length >= BATCH_FILES || this.bytes >= BATCH_BYTES) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Sends what is waiting now, as before waiting for it. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.bytes = 0;
    syscalls.writeFiles(batch.map((p) => p.file)).then(
      (errors) => batch.forEach((p, i) => (errors[i] ? p.reject(errors[i]) : p.resolve())),
      (err: Error) => batch.forEach((p) => p.reject(err)),
    );
  }
}
