import { isUtf8 } from 'node:buffer';

// Decodes quoted literals as containerd's filters/quote.go does: Go's string
// escapes, with `/` and `|` usable as quote characters besides `"`.

const CONTROL_ESCAPES: Readonly<Record<string, number>> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
};

const CODE_POINT_ESCAPE_DIGITS: Readonly<Record<string, number>> = { u: 4, U: 8 };

/**
 * Returns the text a quoted literal (quotes included) stands for, or undefined
 * when it is malformed, e.g. an octal escape above \377 or a \U escape beyond
 * U+10FFFF, which the scanner lets through.
 */
export function unquote(quoted: string): string | undefined {
  const quote = quoted[0];
  if (quoted.length < 2 || quoted[quoted.length - 1] !== quote) return undefined;
  const body = quoted.slice(1, -1);
  // \x and octal escapes write single bytes, so the result is built as UTF-8.
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    const ch = body.codePointAt(i) as number;
    const char = String.fromCodePoint(ch);
    i += char.length;
    if (char === quote) return undefined;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const kind = body[i++] ?? '';
    if (kind in CONTROL_ESCAPES) {
      bytes.push(CONTROL_ESCAPES[kind]);
    } else if (kind === '\\' || kind === quote) {
      bytes.push(kind.charCodeAt(0));
    } else if (kind === 'x') {
      const digits = body.slice(i, (i += 2));
      if (!/^[0-9a-f]{2}$/i.test(digits)) return undefined;
      bytes.push(parseInt(digits, 16));
    } else if (kind in CODE_POINT_ESCAPE_DIGITS) {
      const count = CODE_POINT_ESCAPE_DIGITS[kind];
      const digits = body.slice(i, (i += count));
      if (!new RegExp(`^[0-9a-f]{${count}}$`, 'i').test(digits)) return undefined;
      const codePoint = escapedCodePoint(parseInt(digits, 16));
      if (codePoint === undefined) return undefined;
      bytes.push(...Buffer.from(String.fromCodePoint(codePoint), 'utf8'));
    } else if (/^[0-7]$/.test(kind)) {
      const digits = kind + body.slice(i, (i += 2));
      if (!/^[0-7]{3}$/.test(digits) || parseInt(digits, 8) > 0xff) return undefined;
      bytes.push(parseInt(digits, 8));
    } else {
      return undefined;
    }
  }
  return decodeUtf8(Buffer.from(bytes));
}

/**
 * What Go makes of \u and \U escapes: it refuses one beyond U+10FFFF, but
 * collects the digits in a signed 32-bit rune, so \U80000000 and above wrap
 * to negative and pass that check; it encodes those, like surrogates, as U+FFFD.
 */
function escapedCodePoint(value: number): number | undefined {
  if (value >= 0x80000000 || (value >= 0xd800 && value <= 0xdfff)) return 0xfffd;
  return value <= 0x10ffff ? value : undefined;
}

/**
 * Go keeps bytes that are not UTF-8 as they are, and so they can never equal a
 * field name or value. Turning each non-ASCII byte into a lone surrogate keeps
 * that property, since well-formed strings contain no lone surrogates.
 */
function decodeUtf8(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  return Array.from(bytes, (byte) => String.fromCharCode(byte < 0x80 ? byte : 0xdc00 + byte)).join('');
}
