import { CATEGORIES, complement, literal, MAX_CODE_POINT, POSIX_CLASSES, rangesSource, SPACE } from './regexp-sets';

// containerd compiles the pattern of `~=` with Go's regexp package (RE2
// syntax), and a pattern that does not compile matches nothing. JavaScript's
// RegExp reads much of that syntax alike but not all of it: with the u flag it
// rejects Go's escaped punctuation (`\-`, `\=`), `\a`, `\A`, `\z`, `\Q...\E`,
// a lone `]`, `{` or `}`, POSIX classes and quantified anchors; its `.` skips
// \r, U+2028 and U+2029 besides \n, and its `\s` is wider. And it accepts what
// Go refuses: lookarounds, backreferences, `\c`, `\u`, `[\b]`. So the pattern is
// rewritten token by token into one JavaScript reads as Go does, every literal
// as \u{...}, or refused where Go would refuse it.
//
// Go's inline flags are carried over as the rewriting goes: s in `.`, m in
// `^` and `$`, U not at all (greed changes what a match spans, not whether
// there is one). Node 20's RegExp has no way to scope i, so only a leading
// `(?i)` is taken, as the i flag, and a pattern that changes i anywhere else
// matches nothing here.
//
// Not carried over: Go's limit on nested repeats (`(a{100}){100}`); Unicode
// property tables, which follow each side's Unicode version (Go's \pC also
// leaves out unassigned code points), and JavaScript also takes short script
// names (\p{Grek}); and with i, JavaScript's \b also counts ſ and K (Kelvin)
// as word characters.

/** The RegExp that matches what Go's regexp.Compile(pattern) would, or undefined where Go refuses it. */
export function compileRegexp(pattern: string): RegExp | undefined {
  const translator = new Translator(pattern);
  const source = translator.translate();
  if (source === undefined) return undefined;
  try {
    return new RegExp(source, translator.ignoreCase ? 'iu' : 'u');
  } catch {
    return undefined;
  }
}

/**
 * An item of a class as JavaScript writes it in one; `alone`, for a set that
 * Go negates (\PL, [:^alpha:]), as a class of its own.
 */
interface ClassItem {
  source: string;
  alone?: string;
}

const MAX_REPEAT = 1000;
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 0x07, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };

/** Thrown inside the translator where Go's parser returns an error. */
class Refused extends Error {}

/** Go's flags that change how a pattern is rewritten; i is the RegExp's. */
interface Flags {
  /** s: `.` matches \n too. */
  dotAll: boolean;
  /** m: `^` and `$` match at line breaks too. */
  multiLine: boolean;
}

class Translator {
  /** Offset in the pattern, in UTF-16 code units. */
  private pos = 0;
  private flags: Flags = { dotAll: false, multiLine: false };
  /** The flags at each open group, which its `)` restores, as in Go. */
  private readonly outerFlags: Flags[] = [];
  /** Set by a leading (?i), for the whole pattern. */
  ignoreCase = false;

  constructor(private readonly pattern: string) {}

  translate(): string | undefined {
    // strata decodes quoted bytes that are not UTF-8 to lone surrogates; Go
    // refuses a pattern that is not UTF-8.
    if (/\p{Cs}/u.test(this.pattern)) return undefined;
    let out = '';
    try {
      while (!this.atEnd()) out += this.term();
    } catch (err) {
      if (err instanceof Refused) return undefined;
      throw err;
    }
    return out;
  }

  private term(): string {
    const char = this.next();
    switch (char) {
      case '(':
        return this.group();
      case ')':
        this.flags = this.outerFlags.pop() ?? this.flags;
        return char;
      case '|':
      case '*':
      case '+':
      case '?':
        return char;
      case '^':
        return this.assertion(this.flags.multiLine ? '(?<![^\\n])' : '^');
      case '$':
        return this.assertion(this.flags.multiLine ? '(?![^\\n])' : '$');
      case '.':
        return this.flags.dotAll ? '[^]' : '[^\\n]';
      case '[':
        return this.charClass();
      case '{':
        return this.repeatOrBrace();
      case '\\':
        return this.escape();
      default:
        return literal(char.codePointAt(0) as number);
    }
  }

  /** JavaScript refuses a quantified assertion unless it is in a group, Go takes it as is. */
  private assertion(source: string): string {
    const next = this.peek();
    const quantified = next === '*' || next === '+' || next === '?' || (next === '{' && this.match(REPEAT, this.pos));
    return quantified ? `(?:${source})` : source;
  }

  private group(): string {
    // A name changes nothing about what matches, and Go's names ([A-Za-z0-9_]+)
    // need not be JavaScript identifiers.
    const named = this.match(NAMED_GROUP, this.pos);
    if (this.peek() !== '?' || named) {
      this.pos += named ? named[0].length : 0;
      this.outerFlags.push(this.flags);
      return '(';
    }
    const setting = this.match(FLAGS, this.pos);
    if (!setting) throw new Refused('lookarounds and other (? groups');
    const [text, on, off = '', end] = setting;
    if (off.length === 0 && text.includes('-')) throw new Refused('(?-) sets no flag');
    this.pos += text.length;
    const fold = on.includes('i') && !off.includes('i') ? true : off.includes('i') ? false : this.ignoreCase;
    if (fold && end === ')' && this.pos === text.length + 1) {
      this.ignoreCase = true;
    } else if (fold !== this.ignoreCase) {
      throw new Refused('i changed inside the pattern');
    }
    const flags = {
      dotAll: off.includes('s') ? false : on.includes('s') || this.flags.dotAll,
      multiLine: off.includes('m') ? false : on.includes('m') || this.flags.multiLine,
    };
    if (end === ')') {
      this.flags = flags;
      return '';
    }
    this.outerFlags.push(this.flags);
    this.flags = flags;
    return '(?:';
  }

  /** Go reads `{` as a literal unless a repeat count follows, and refuses counts above 1000. */
  private repeatOrBrace(): string {
    const repeat = this.match(REPEAT, this.pos - 1);
    if (!repeat) return literal(0x7b);
    const min = Number(repeat[1]);
    const max = repeat[2] === undefined ? min : repeat[3] === undefined ? -1 : Number(repeat[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) throw new Refused('repeat count');
    this.pos += repeat[0].length - 1;
    return repeat[0];
  }

  private escape(): string {
    const char = this.peek();
    switch (char) {
      case 'A':
      case 'z':
        this.pos++;
        // Without JavaScript's m flag, ^ and $ are the start and end of the text.
        return this.assertion(char === 'A' ? '^' : '$');
      case 'b':
      case 'B':
        this.pos++;
        return this.assertion(`\\${char}`);
      case 'Q': {
        const end = this.pattern.indexOf('\\E', this.pos + 1);
        const text = this.pattern.slice(this.pos + 1, end < 0 ? undefined : end);
        this.pos = end < 0 ? this.pattern.length : end + 2;
        return [...text].map((c) => literal(c.codePointAt(0) as number)).join('');
      }
      case 'p':
      case 'P': {
        const item = this.unicodeClass();
        return this.ignoreCase && item.alone ? item.alone : item.source;
      }
      case 's':
      case 'S':
        this.pos++;
        return char === 's' ? `[${rangesSource(SPACE)}]` : `[^${rangesSource(SPACE)}]`;
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        // ASCII in both, as long as JavaScript's i flag is off.
        this.pos++;
        return `\\${char}`;
      default:
        return literal(this.escapedChar());
    }
  }

  /** The character of an escape that stands for one (the backslash read), as Go's parseEscape. */
  private escapedChar(): number {
    if (this.atEnd()) throw new Refused('trailing backslash');
    const char = this.next();
    const code = char.codePointAt(0) as number;
    if (code < 0x80 && !/[A-Za-z0-9]/.test(char)) return code;
    if (char in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[char];
    // \0, and a digit 1-7 followed by another octal digit: up to three octal
    // digits. A lone \1-\7 would be a backreference, which Go has not.
    if (char === '0' || (/[1-7]/.test(char) && /[0-7]/.test(this.peek()))) {
      const more = this.match(OCTAL_DIGITS, this.pos)![0];
      this.pos += more.length;
      return parseInt(char + more, 8);
    }
    const hex = char === 'x' ? this.match(HEX_ESCAPE, this.pos) : null;
    if (hex) {
      const value = parseInt(hex[1] ?? hex[2], 16);
      if (value <= MAX_CODE_POINT) {
        this.pos += hex[0].length;
        return value;
      }
    }
    throw new Refused('invalid escape');
  }

  /** `\pL`, `\p{Greek}`, `\PL`, `\p{^Greek}`: a category, a script or Any. The backslash is read. */
  private unicodeClass(): ClassItem {
    let negated = this.next() === 'P';
    let name: string;
    if (this.peek() === '{') {
      const end = this.pattern.indexOf('}', this.pos);
      if (end < 0) throw new Refused('unterminated \\p{');
      name = this.pattern.slice(this.pos + 1, end);
      this.pos = end + 1;
    } else {
      if (this.atEnd()) throw new Refused('\\p without a name');
      name = this.next();
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    if (!/^[A-Za-z_]+$/.test(name)) throw new Refused('Unicode class name');
    const property = name === 'Any' || CATEGORIES.has(name) ? name : `Script=${name}`;
    return negated ? { source: `\\P{${property}}`, alone: `[^\\p{${property}}]` } : { source: `\\p{${property}}` };
  }

  /** A class, the `[` read. Its items are rewritten one by one; `-` stays only between the ends of a range. */
  private charClass(): string {
    const negated = this.peek() === '^';
    this.pos += negated ? 1 : 0;
    const items: ClassItem[] = [];
    // Go takes a ] right after [ or [^ as a literal.
    for (let first = true; first || this.peek() !== ']'; first = false) {
      if (this.atEnd()) throw new Refused('missing ]');
      items.push(this.classItem());
    }
    this.pos++;
    if (!this.ignoreCase || !items.some((item) => item.alone)) {
      return `[${negated ? '^' : ''}${items.map((item) => item.source).join('')}]`;
    }
    // Under i, Go negates \PL or [:^alpha:] after folding case, JavaScript
    // before; JavaScript folds first only for a negated class of its own. So
    // the class becomes an alternation of such classes, or for [^...] a
    // character none of them matches.
    const alternatives = items.map((item) => item.alone ?? `[${item.source}]`).join('|');
    return negated ? `(?:(?!${alternatives})[^])` : `(?:${alternatives})`;
  }

  private classItem(): ClassItem {
    // Like Go, anything from [: to the next :] names a POSIX class.
    const posixEnd = this.pattern.startsWith('[:', this.pos) ? this.pattern.indexOf(':]', this.pos + 2) : -1;
    if (posixEnd >= 0) {
      const [, negated, name] = /^(\^?)(.*)$/s.exec(this.pattern.slice(this.pos + 2, posixEnd))!;
      if (!Object.hasOwn(POSIX_CLASSES, name)) throw new Refused('POSIX class name');
      this.pos = posixEnd + 2;
      const ranges = POSIX_CLASSES[name];
      return negated ? { source: rangesSource(complement(ranges)), alone: `[^${rangesSource(ranges)}]` } : { source: rangesSource(ranges) };
    }
    if (this.pattern.startsWith('\\p', this.pos) || this.pattern.startsWith('\\P', this.pos)) {
      this.pos++;
      return this.unicodeClass();
    }
    // JavaScript's \W under i leaves out what folds to a word character, as Go's does.
    const perl = this.match(PERL_CLASS, this.pos);
    if (perl) {
      this.pos += 2;
      if (perl[1] === 's') return { source: rangesSource(SPACE) };
      if (perl[1] === 'S') return { source: rangesSource(complement(SPACE)) };
      return { source: perl[0] };
    }
    const lo = this.classChar();
    // [a-] is a and -.
    if (this.peek() !== '-' || this.pos + 1 >= this.pattern.length || this.pattern[this.pos + 1] === ']') {
      return { source: rangesSource([[lo, lo]]) };
    }
    this.pos++;
    const hi = this.classChar();
    if (hi < lo) throw new Refused('range out of order');
    return { source: rangesSource([[lo, hi]]) };
  }

  /** One character of a class, as Go's parseClassChar: itself, or an escape. */
  private classChar(): number {
    if (this.atEnd()) throw new Refused('missing ]');
    const char = this.next();
    return char === '\\' ? this.escapedChar() : (char.codePointAt(0) as number);
  }

  private atEnd(): boolean {
    return this.pos >= this.pattern.length;
  }

  /** The next character (a whole code point), read. */
  private next(): string {
    const char = String.fromCodePoint(this.pattern.codePointAt(this.pos) as number);
    this.pos += char.length;
    return char;
  }

  /** The next code unit, '' at the end; enough to tell ASCII apart. */
  private peek(): string {
    return this.pattern[this.pos] ?? '';
  }

  /** A sticky match at `at`, so that no step copies the rest of a long pattern. */
  private match(pattern: RegExp, at: number): RegExpExecArray | null {
    pattern.lastIndex = at;
    return pattern.exec(this.pattern);
  }
}

/** `{n}`, `{n,}` or `{n,m}`, decimal without leading zeros, as Go's parseRepeat. */
const REPEAT = /\{(0|[1-9][0-9]*)(,(0|[1-9][0-9]*)?)?\}/y;
const NAMED_GROUP = /\?P<[A-Za-z0-9_]+>/y;
/** Go's (?flags) and (?flags:, the ( read: flags to set, then after - flags to clear. */
const FLAGS = /\?([imsU]*)(?:-([imsU]*))?([:)])/y;
const OCTAL_DIGITS = /[0-7]{0,2}/y;
const HEX_ESCAPE = /\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2})/y;
const PERL_CLASS = /\\([dDwWsS])/y;
