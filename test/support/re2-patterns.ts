// A fast-check arbitrary of regular expressions in RE2's syntax, the one
// containerd's filters compile with Go's regexp package: characters written
// every way RE2 reads them, classes with ranges and POSIX, Perl and Unicode
// classes, assertions (also quantified), plain, non-capturing and named
// groups, counted repeats, the flags s, m and U set and cleared in groups and
// for the rest of one, and i for the whole pattern. Not i for part of one,
// which strata cannot scope, nor \b next to ſ or K under i (see
// src/filters/regexp.ts); and \p names only of categories and scripts both
// Unicode versions have. Every pattern is one Go compiles.
import fc from 'fast-check';

/** A character of a pattern and how to write it (see renderChar). */
interface Char {
  char: string;
  style: number;
}

type ClassItem = { kind: 'char'; char: Char } | { kind: 'range'; lo: Char; hi: Char } | { kind: 'named'; source: string };

type Regexp =
  | { kind: 'char'; char: Char }
  | { kind: 'atom' | 'setting'; source: string }
  | { kind: 'class'; negated: boolean; leadingBracket: boolean; items: ClassItem[] }
  | { kind: 'concat' | 'alternate'; parts: Regexp[] }
  | { kind: 'group'; opener: string; body: Regexp }
  | { kind: 'repeat'; body: Regexp; operator: string; lazy: boolean };

/** Characters patterns are made of, which texts to match should share. */
export const PATTERN_CHARS = [...'abcB0_-/=,"éÉ λΛ', ...'.*+?()[]{}|^$\\:', '\n', '\r', '\t', '\u2028', '😀'];
const ATOMS = [...'.^$', ...['d', 'D', 'w', 'W', 's', 'S', 'A', 'z', 'b', 'B'].map((c) => `\\${c}`)];
const UNICODE_CLASSES = ['\\pL', '\\p{Lu}', '\\PL', '\\p{^Ll}', '\\pN', '\\p{Greek}', '\\P{Latin}', '\\p{Any}'];
const NAMED_ITEMS = ['[:alpha:]', '[:^digit:]', '[:space:]', '[:punct:]', '\\d', '\\s', '\\S', '\\W', ...UNICODE_CLASSES];
const REPEATS = ['*', '+', '?', '{2}', '{1,}', '{0,2}', '{1,3}'];
const GROUPS = ['(', '(?:', '(?P<g>', '(?P<1_a>', '(?s:', '(?m:', '(?U:', '(?-s:', '(?sm-U:'];
const SETTINGS = ['(?s)', '(?m)', '(?-m)', '(?U)', '(?)'];
const CONTROL_NAMES: Record<string, string> = { '\x07': 'a', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v' };

const patternChar: fc.Arbitrary<Char> = fc.record({ char: fc.constantFrom(...PATTERN_CHARS), style: fc.nat({ max: 7 }) });

/**
 * A character as chosen: escaped punctuation, \xHH, \x{H...}, three octal
 * digits, a C escape or \Q...\E, or else as itself, escaped where it would
 * be syntax. Outside a class ] and } are literals to RE2, and { is escaped
 * only so that it never starts a repeat by chance.
 */
function renderChar({ char, style }: Char, inClass: boolean): string {
  const code = char.codePointAt(0) as number;
  const hex = code.toString(16);
  if (style === 1 && code < 0x80 && !/[A-Za-z0-9]/.test(char)) return `\\${char}`;
  if (style === 2 && code < 0x100) return `\\x${hex.padStart(2, '0')}`;
  if (style === 3) return `\\x{${hex}}`;
  if (style === 4 && code < 0o1000) return `\\${code.toString(8).padStart(3, '0')}`;
  if (style === 5 && char in CONTROL_NAMES) return `\\${CONTROL_NAMES[char]}`;
  if (style === 5 && !inClass) return `\\Q${char}\\E`;
  return (inClass ? /^[\\\][^-]$/ : /^[.*+?()[{|^$\\]$/).test(char) ? `\\${char}` : char;
}

const classItem: fc.Arbitrary<ClassItem> = fc.oneof(
  patternChar.map((char): ClassItem => ({ kind: 'char', char })),
  fc.tuple(patternChar, patternChar).map(([a, b]): ClassItem => {
    const [lo, hi] = (a.char.codePointAt(0) as number) <= (b.char.codePointAt(0) as number) ? [a, b] : [b, a];
    return { kind: 'range', lo, hi };
  }),
  fc.constantFrom(...NAMED_ITEMS).map((source): ClassItem => ({ kind: 'named', source })),
);

const regexpArb: fc.Arbitrary<Regexp> = fc.letrec<{ node: Regexp }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 4, withCrossShrink: true },
    { weight: 3, arbitrary: patternChar.map((char): Regexp => ({ kind: 'char', char })) },
    fc.constantFrom(...ATOMS, ...UNICODE_CLASSES).map((source): Regexp => ({ kind: 'atom', source })),
    fc.constantFrom(...SETTINGS).map((source): Regexp => ({ kind: 'setting', source })),
    fc
      .record({ negated: fc.boolean(), leadingBracket: fc.boolean(), items: fc.array(classItem, { minLength: 1, maxLength: 3 }) })
      .map((c): Regexp => ({ kind: 'class', ...c })),
    fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map((parts): Regexp => ({ kind: 'concat', parts })),
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((parts): Regexp => ({ kind: 'alternate', parts })),
    fc.record({ opener: fc.constantFrom(...GROUPS), body: tie('node') }).map((g): Regexp => ({ kind: 'group', ...g })),
    fc
      .record({ body: tie('node'), operator: fc.constantFrom(...REPEATS), lazy: fc.boolean() })
      .map((r): Regexp => ({ kind: 'repeat', ...r })),
  ),
})).node;

function renderClassItem(item: ClassItem): string {
  switch (item.kind) {
    case 'char':
      return renderChar(item.char, true);
    case 'range':
      return `${renderChar(item.lo, true)}-${renderChar(item.hi, true)}`;
    case 'named':
      return item.source;
  }
}

function renderRegexp(re: Regexp): string {
  switch (re.kind) {
    case 'char':
      return renderChar(re.char, false);
    case 'atom':
    case 'setting':
      return re.source;
    case 'class':
      // RE2 reads a ] right after [ or [^ as a literal.
      return `[${re.negated ? '^' : ''}${re.leadingBracket ? ']' : ''}${re.items.map(renderClassItem).join('')}]`;
    case 'concat':
      return re.parts.map((part) => (part.kind === 'alternate' ? `(?:${renderRegexp(part)})` : renderRegexp(part))).join('');
    case 'alternate':
      return re.parts.map(renderRegexp).join('|');
    case 'group':
      return `${re.opener}${renderRegexp(re.body)})`;
    case 'repeat': {
      // RE2 refuses a repeat of a repeat (a**), one of a concatenation repeats
      // its last part, and one right after (?s) the part before that.
      const atomic = ['char', 'atom', 'class', 'group'].includes(re.body.kind);
      return `${atomic ? renderRegexp(re.body) : `(?:${renderRegexp(re.body)})`}${re.operator}${re.lazy ? '?' : ''}`;
    }
  }
}

/** A pattern, under a leading (?i) now and then if `caseFolding`. */
export function re2Pattern(caseFolding: boolean): fc.Arbitrary<string> {
  return fc
    .record({ re: regexpArb, ignoreCase: fc.boolean() })
    .map(({ re, ignoreCase }) => `${ignoreCase && caseFolding ? '(?i)' : ''}${renderRegexp(re)}`);
}
