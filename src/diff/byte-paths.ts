// A layer's names are bytes, not text: Linux and tar take any byte but '/'
// and NUL in a name, and containerd (in Go) keeps them as they are. So the
// applier and the differ carry names as byte strings, one latin1 character
// per byte: path.join and friends work unchanged on them ('/' and '.' are
// one byte either way), and each becomes a Buffer where it meets a syscall,
// which Node's fs and strata's addon take as raw bytes.

/** A path whose characters are its bytes (latin1). */
export type BytePath = string;

/** The bytes to hand to a syscall. */
export function fsPath(name: BytePath): Buffer {
  return Buffer.from(name, 'latin1');
}

/** A path given as text (a snapshot's directory, say), as bytes. */
export function bytePath(text: string): BytePath {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Raw bytes from the filesystem (readdir, readlink) as a byte string. */
export function fromFs(bytes: Buffer): BytePath {
  return bytes.toString('latin1');
}

/** For messages and logs: the name as UTF-8 text, with what is not UTF-8 shown as U+FFFD. */
export function shown(name: BytePath): string {
  return Buffer.from(name, 'latin1').toString('utf8');
}
