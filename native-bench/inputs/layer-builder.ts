// Adds entries to a layer tar the way image builders write them: parents
// before children, fixed times (so a layer is the same bytes every run), and
// OCI whiteouts for deletions.
import type * as tar from 'tar-stream';

const MTIME = new Date('2024-01-01T00:00:00Z');

export class LayerBuilder {
  /** Tar entries written, whiteouts included: what "files/s" counts. */
  entries = 0;

  constructor(private readonly pack: tar.Pack) {}

  private add(header: Partial<tar.Header> & { name: string }, body?: Buffer): Promise<void> {
    this.entries++;
    return new Promise((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      this.pack.entry({ uid: 0, gid: 0, mtime: MTIME, ...header }, body ?? Buffer.alloc(0), done);
    });
  }

  dir(name: string, mode = 0o755): Promise<void> {
    return this.add({ name: `${name}/`, type: 'directory', mode });
  }

  file(name: string, content: Buffer, mode = 0o644): Promise<void> {
    return this.add({ name, type: 'file', mode }, content);
  }

  symlink(name: string, target: string): Promise<void> {
    return this.add({ name, type: 'symlink', linkname: target, mode: 0o777 });
  }

  hardlink(name: string, target: string): Promise<void> {
    return this.add({ name, type: 'link', linkname: target, mode: 0o644 });
  }

  /** Deletes `name` from the layers below. */
  whiteout(dir: string, name: string): Promise<void> {
    return this.add({ name: `${dir}/.wh.${name}`, type: 'file', mode: 0o644 });
  }

  /** Hides everything the layers below have in `dir`. */
  opaque(dir: string): Promise<void> {
    return this.add({ name: `${dir}/.wh..wh..opq`, type: 'file', mode: 0o644 });
  }
}
