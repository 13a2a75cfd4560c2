// Tokenizer for containerd filter strings. It reproduces the quirks of
// containerd's filters/scanner.go, because the parser's error positions and
// what counts as a field or a value depend on them.

export type TokenKind =
  | 'eof'
  | 'quoted'
  | 'value'
  | 'field'
  | 'separator'
  | 'operator'
  | 'illegal'
  | 'unexpected';

export interface Token {
  /** Offset of the token in the input, in UTF-16 code units. */
  pos: number;
  kind: TokenKind;
  text: string;
}

/** What peek() returns at the end of the input. */
export const END = -1;
/** What peek() returns for a NUL or a character that is not valid Unicode. */
export const ILLEGAL = -2;

const REPLACEMENT_CHARACTER = 0xfffd;

export class Scanner {
  private lastCharStart = 0;
  private nextCharStart = 0;
  /** After an operator, unquoted text is a value, which may hold more characters than a field. */
  private expectingValue = false;
  /** containerd keeps only the first error, even when it was found while peeking. */
  private firstError = '';

  constructor(private readonly input: string) {}

  /** Why an illegal token is illegal. */
  get error(): string {
    return this.firstError;
  }

  /** Offset of the next character, the one peek() returns. */
  get offset(): number {
    return this.nextCharStart;
  }

  /** The next character as a code point, or END or ILLEGAL, without reading it. */
  peek(): number {
    const { lastCharStart, nextCharStart } = this;
    const ch = this.next();
    this.lastCharStart = lastCharStart;
    this.nextCharStart = nextCharStart;
    return ch;
  }

  scan(): Token {
    let ch = this.next();
    while (isSpace(ch)) {
      ch = this.next();
    }
    const pos = this.lastCharStart;
    const token = (kind: TokenKind): Token => ({
      pos,
      kind,
      text: this.input.slice(pos, this.nextCharStart),
    });

    if (ch === END) return { pos, kind: 'eof', text: '' };
    if (ch === ILLEGAL) return { pos, kind: 'illegal', text: '' };
    if (isQuote(ch)) return token(this.scanQuoted(ch) ? 'quoted' : 'illegal');
    if (isSeparator(ch)) {
      this.expectingValue = false;
      return token('separator');
    }
    if (isOperatorChar(ch)) {
      this.skipWhile(isOperatorChar);
      this.expectingValue = true;
      return token('operator');
    }
    // The first character of a value only has to be none of the above.
    if (this.expectingValue) {
      this.skipWhile(isValueChar);
      this.expectingValue = false;
      return token('value');
    }
    if (isFieldChar(ch)) {
      this.skipWhile(isFieldChar);
      return token('field');
    }
    return token('unexpected');
  }

  private next(): number {
    if (this.nextCharStart >= this.input.length) {
      this.lastCharStart = this.input.length;
      return END;
    }
    this.lastCharStart = this.nextCharStart;
    const ch = this.input.codePointAt(this.nextCharStart) as number;
    this.nextCharStart += ch > 0xffff ? 2 : 1;
    // Invalid UTF-8 arrives as U+FFFD or a lone surrogate, depending on the
    // decoder. Go sees utf8.RuneError in both cases, and also for a genuine
    // U+FFFD, and containerd rejects it.
    if (ch === REPLACEMENT_CHARACTER || isSurrogate(ch)) {
      this.fail('rune error');
      return ILLEGAL;
    }
    if (ch === 0) {
      this.fail('unexpected null');
      return ILLEGAL;
    }
    return ch;
  }

  private skipWhile(accept: (ch: number) => boolean): void {
    while (accept(this.peek())) {
      this.next();
    }
  }

  /** Returns false, and records why, when the literal is unterminated or has a bad escape. */
  private scanQuoted(quote: number): boolean {
    let legal = true;
    let ch = this.next();
    while (ch !== quote) {
      if (ch === NEWLINE || ch === END || ch === ILLEGAL) {
        this.fail('quoted literal not terminated');
        return false;
      }
      if (ch === BACKSLASH) {
        const escape = this.scanEscape(quote);
        ch = escape.following;
        legal &&= escape.legal;
      } else {
        ch = this.next();
      }
    }
    return legal;
  }

  /** Reads the escape after a backslash. */
  private scanEscape(quote: number): ScannedEscape {
    const ch = this.next();
    if (SIMPLE_ESCAPES.includes(ch) || ch === quote) {
      return { following: this.next(), legal: true };
    }
    if (/^[0-7]$/.test(charOf(ch))) {
      return this.scanDigits(ch, 8, 3);
    }
    const hexDigits = HEX_ESCAPE_DIGITS.get(charOf(ch));
    if (hexDigits !== undefined) {
      return this.scanDigits(this.next(), 16, hexDigits);
    }
    this.fail('illegal escape sequence');
    return { following: ch, legal: false };
  }

  /** Expects `count` digits in `base`, starting with the already read `ch`. */
  private scanDigits(ch: number, base: number, count: number): ScannedEscape {
    let remaining = count;
    while (remaining > 0 && digitValue(ch) < base) {
      ch = this.next();
      remaining--;
    }
    if (remaining > 0) {
      this.fail('illegal numeric escape sequence');
      return { following: ch, legal: false };
    }
    return { following: ch, legal: true };
  }

  private fail(message: string): void {
    if (this.firstError === '') {
      this.firstError = message;
    }
  }
}

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const SIMPLE_ESCAPES = [...'abfnrtv\\'].map((ch) => ch.codePointAt(0));
const HEX_ESCAPE_DIGITS: ReadonlyMap<string, number> = new Map([
  ['x', 2],
  ['u', 4],
  ['U', 8],
]);

/** `following` is the character read after the escape, which ends the literal if it is the quote. */
interface ScannedEscape {
  following: number;
  legal: boolean;
}

function isSurrogate(ch: number): boolean {
  return ch >= 0xd800 && ch <= 0xdfff;
}

/** The character as a string; '' for END and ILLEGAL. */
function charOf(ch: number): string {
  return ch >= 0 ? String.fromCodePoint(ch) : '';
}

function digitValue(ch: number): number {
  const c = charOf(ch);
  return /^[0-9a-f]$/i.test(c) ? parseInt(c, 16) : 16; // 16 exceeds a digit in any base used here
}

function charTest(pattern: RegExp): (ch: number) => boolean {
  return (ch) => pattern.test(charOf(ch));
}

// Go's unicode.IsSpace is exactly the Unicode White_Space property.
const isSpace = charTest(/^\p{White_Space}$/u);
const isQuote = charTest(/^[/|"]$/);
const isSeparator = charTest(/^[,.]$/);
const isOperatorChar = charTest(/^[=!~]$/);
const isFieldChar = charTest(/^[A-Za-z0-9_]$/);
// Go's unicode.IsGraphic (L, M, N, P, S, Zs) minus spaces and the selector separator.
const isValueChar = charTest(/^(?![,\p{White_Space}])[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u);
