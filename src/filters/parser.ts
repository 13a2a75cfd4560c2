import { invalidArgument, type StrataError } from '../errdefs';
import { allOf, always, type Filter } from './filter';
import { END, ILLEGAL, Scanner, type Token } from './scanner';
import { comparisonSelector, presenceSelector, type Operator } from './selector';
import { unquote } from './unquote';

// Grammar, as in containerd's filters/parser.go:
//   selectors := selector ("," selector)*
//   selector  := fieldpath (operator value)?
//   fieldpath := field ("." field)*
//   field     := quoted | [A-Za-z0-9_]+
//   operator  := "==" | "!=" | "~="
//   value     := quoted | [^\s,]+
//   quoted    := Go string syntax in "..."; after ~= also /.../ or |...|
// Whitespace is skipped only before a token the parser reads, not where it
// peeks for `.` or `,`, which is why containerd takes `name == a` but rejects
// `name==a ` and `name==a ,b`; this parser keeps that.

const COMMA = 0x2c;
const DOT = 0x2e;
const OPERATORS: readonly string[] = ['==', '!=', '~='] satisfies Operator[];

/** Parses one filter string, whose selectors must all match. The empty string matches everything. */
export function parseFilter(input: string): Filter {
  return input === '' ? always : new FilterParser(input).parse();
}

class FilterParser {
  private readonly scanner: Scanner;

  constructor(private readonly input: string) {
    this.scanner = new Scanner(input);
  }

  parse(): Filter {
    const selectors = [this.selector()];
    for (;;) {
      const next = this.scanner.peek();
      if (next === END) return allOf(selectors);
      if (next !== COMMA) {
        const shown = next === ILLEGAL ? '\ufffd' : String.fromCodePoint(next);
        throw this.error(this.scanner.offset, `unexpected input: ${shown}`);
      }
      this.scanner.scan();
      selectors.push(this.selector());
    }
  }

  private selector(): Filter {
    const fieldpath = this.fieldpath();
    const next = this.scanner.peek();
    if (next === COMMA || next === END) return presenceSelector(fieldpath);
    const operator = this.operator();
    return comparisonSelector(fieldpath, operator, this.value(operator === '~='));
  }

  private fieldpath(): string[] {
    const fieldpath = [this.field()];
    while (this.scanner.peek() === DOT) {
      this.scanner.scan();
      fieldpath.push(this.field());
    }
    return fieldpath;
  }

  private field(): string {
    const token = this.scanner.scan();
    switch (token.kind) {
      case 'field':
        return token.text;
      case 'quoted':
        return this.unquote(token, false);
      case 'illegal':
        throw this.error(token.pos, this.scanner.error);
      default:
        throw this.error(token.pos, 'expected field or quoted');
    }
  }

  private operator(): Operator {
    const token = this.scanner.scan();
    switch (token.kind) {
      case 'operator':
        if (isOperator(token.text)) return token.text;
        throw this.error(token.pos, `unsupported operator "${token.text}"`);
      case 'illegal':
        throw this.error(token.pos, this.scanner.error);
      default:
        throw this.error(token.pos, 'expected an operator ("=="|"!="|"~=")');
    }
  }

  /** `/` and `|` quotes spare escaping in regular expressions, so only `~=` accepts them. */
  private value(allowRegexpQuotes: boolean): string {
    const token = this.scanner.scan();
    switch (token.kind) {
      case 'value':
        return token.text;
      case 'quoted':
        return this.unquote(token, allowRegexpQuotes);
      case 'illegal':
        throw this.error(token.pos, this.scanner.error);
      default:
        throw this.error(token.pos, 'expected value or quoted');
    }
  }

  private unquote(token: Token, allowRegexpQuotes: boolean): string {
    if (!allowRegexpQuotes && !token.text.startsWith('"')) {
      throw this.error(token.pos, 'invalid quote encountered');
    }
    const text = unquote(token.text);
    if (text === undefined) {
      throw this.error(token.pos, 'unquoting failed: quote syntax error');
    }
    return text;
  }

  /** Same message as containerd, which marks the offending character as `>|x|<`. */
  private error(pos: number, message: string): StrataError {
    let where = this.input;
    if (pos < this.input.length) {
      const at = String.fromCodePoint(this.input.codePointAt(pos) as number);
      where = `${this.input.slice(0, pos)} >|${at}|< ${this.input.slice(pos + at.length)}`;
    }
    return invalidArgument(`filters: parse error: [${where}]: ${message}`);
  }
}

function isOperator(text: string): text is Operator {
  return OPERATORS.includes(text);
}
