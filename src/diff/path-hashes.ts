// Paths kept as 30-bit hashes, to answer "might this apply have made it?".
// A wrong yes costs one lstat; two million entries cost some tens of MB
// instead of their names (about 300 MB of strings and set entries).

export class PathHashes {
  private readonly hashes = new Set<number>();

  add(name: string): void {
    this.hashes.add(hash(name));
  }

  /** False only when name was never added since the last clear. */
  mayHave(name: string): boolean {
    return this.hashes.has(hash(name));
  }

  clear(): void {
    this.hashes.clear();
  }
}

/** FNV-1a, cut to 30 bits so that every value is a small integer V8 stores unboxed. */
function hash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h >>> 0) & 0x3fffffff;
}
