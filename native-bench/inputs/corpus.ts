// Deterministic file contents that compress like real ones: source-like text
// (about 4:1 with gzip) and binary-like bytes (code and data: about 2:1).
// Each is one large block made once from a seed; a file is a slice of it at
// an offset derived from the file's own number, so files differ from each
// other and nothing repeats within a compressor's window.

/** A small, fast, seedable PRNG (xorshift32). */
export class Random {
  private x: number;

  constructor(seed: number) {
    this.x = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + (this.next() % (max - min + 1));
  }

  /** A size between min and max, most of them small, as file sizes are (log-uniform). */
  size(min: number, max: number): number {
    const lo = Math.log(Math.max(1, min));
    const hi = Math.log(max);
    return Math.round(Math.exp(lo + (this.next() / 0x100000000) * (hi - lo)));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.next() % items.length];
  }
}

const WORDS = [
  'const', 'function', 'return', 'export', 'import', 'from', 'if', 'else', 'for', 'while', 'new', 'this', 'true', 'false', 'null',
  'module', 'require', 'exports', 'value', 'options', 'callback', 'error', 'result', 'length', 'index', 'buffer', 'string', 'object',
  '=', '==', '===', '=>', '(', ')', '{', '}', '[', ']', ';', ',', '.', '+', '-', '*', '/', '&&', '||', '!', '?', ':',
];

function identifier(random: Random): string {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_';
  let id = '';
  for (let i = random.int(2, 12); i > 0; i--) id += letters[random.next() % letters.length];
  return id;
}

export function textCorpus(seed: number, size: number): Buffer {
  const random = new Random(seed);
  // A limited vocabulary of identifiers, as a code base reuses its names.
  const names = Array.from({ length: 700 }, () => identifier(random));
  const lines: string[] = [];
  let length = 0;
  while (length < size) {
    // Code repeats itself: a line is often a near copy of a recent one.
    const recent = lines.length > 8 && random.next() % 3 === 0 ? lines[lines.length - random.int(1, 8)] : undefined;
    let line: string;
    if (recent) {
      line = recent.replace(/\w+/, random.pick(names));
    } else {
      const indent = '  '.repeat(random.int(0, 4));
      const tokens: string[] = [];
      for (let i = random.int(3, 12); i > 0; i--) tokens.push(random.next() % 2 === 0 ? random.pick(WORDS) : random.pick(names));
      if (random.next() % 9 === 0) tokens.push(String(random.next() % 1000));
      line = `${indent}${tokens.join(' ')}\n`;
    }
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join(''), 'latin1').subarray(0, size);
}

export function binaryCorpus(seed: number, size: number): Buffer {
  const random = new Random(seed);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const run = Math.min(size - at, random.int(256, 8192));
    const kind = random.next() % 5;
    if (kind <= 1) {
      // Data: random bytes, which no compressor shrinks.
      for (let i = 0; i < run; i += 4) out.writeUInt32LE(random.next(), at + i > size - 4 ? size - 4 : at + i);
    } else if (kind === 1) {
      out.fill(0, at, at + run);
    } else {
      // Code: short instruction-like patterns with varying operands.
      const pattern = Buffer.allocUnsafe(random.int(4, 24));
      for (let i = 0; i < pattern.length; i++) pattern[i] = random.next() & 0xff;
      for (let i = 0; i < run; i++) out[at + i] = i % pattern.length === 0 ? random.next() & 0xff : pattern[i % pattern.length];
    }
    at += run;
  }
  return out;
}

/** Corpora shared by every generator: made once per process. */
export class Corpus {
  private static made: Corpus | undefined;

  private constructor(
    readonly text: Buffer,
    readonly binary: Buffer,
  ) {}

  static get(): Corpus {
    Corpus.made ??= new Corpus(textCorpus(1, 24 << 20), binaryCorpus(2, 24 << 20));
    return Corpus.made;
  }

  /** `size` bytes of text for file number `n`. */
  textFile(n: number, size: number): Buffer {
    return slice(this.text, n, size);
  }

  binaryFile(n: number, size: number): Buffer {
    return slice(this.binary, n, size);
  }
}

function slice(block: Buffer, n: number, size: number): Buffer {
  if (size <= block.length) {
    const offset = new Random(n * 2654435761 + 1).next() % (block.length - size + 1);
    return block.subarray(offset, offset + size);
  }
  // Larger than the block: whole copies, each shifted, so no copy repeats its neighbour exactly.
  const parts: Buffer[] = [];
  for (let left = size, part = 0; left > 0; part++) {
    const piece = slice(block, n * 31 + part, Math.min(left, block.length >> 1));
    parts.push(piece);
    left -= piece.length;
  }
  return Buffer.concat(parts);
}
