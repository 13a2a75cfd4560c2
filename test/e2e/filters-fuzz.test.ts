// Property tests of strata's filter parser and matcher (src/filters) against
// containerd's own (github.com/containerd/containerd/filters), run as a Go
// helper: for generated well-formed filters and for arbitrary text, both must
// accept or reject alike, with the same message, and agree on every match.
// Anything strata throws other than its InvalidArgument error is a failure.
// STRATA_FUZZ_RUNS sets the runs per property; fast-check prints the seed and
// the shrunk counterexample of a failure, and STRATA_FUZZ_SEED=<seed> replays it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { StrataError } from '../../src/errdefs';
import { labelField, parseFilters, type FieldLookup } from '../../src/filters';
import { ContainerdFilters, type ContainerdAnswer, type FilterObject } from '../support/containerd-filters';
import { PATTERN_CHARS, re2Pattern } from '../support/re2-patterns';

const PARAMETERS: fc.Parameters<unknown> = {
  numRuns: Number(process.env.STRATA_FUZZ_RUNS) || 1000,
  seed: process.env.STRATA_FUZZ_SEED ? Number(process.env.STRATA_FUZZ_SEED) : undefined,
};

// ---- both sides ------------------------------------------------------------

/** The Go helper's adaptor over strata's own label lookup. */
function lookup(object: FilterObject): FieldLookup {
  return (fieldpath) => {
    if (fieldpath.length === 1) return Object.hasOwn(object.fields, fieldpath[0]) ? object.fields[fieldpath[0]] : undefined;
    return fieldpath[0] === 'labels' ? labelField(object.labels, fieldpath) : undefined;
  };
}

function strata(filters: string[], objects: FilterObject[]): ContainerdAnswer {
  let filter;
  try {
    filter = parseFilters(filters);
  } catch (err) {
    if (err instanceof StrataError && err.kind === 'InvalidArgument') return { error: err.message, matches: [] };
    throw err;
  }
  return { error: '', matches: objects.map((object) => filter.match(lookup(object))) };
}

/**
 * containerd's ParseAll adds ": invalid argument" to the parser's message;
 * strata sends that part as the gRPC code, and containerd's client puts it
 * back. Go marks the byte at the error, strata the character, so only ASCII
 * filters have comparable messages.
 */
function assertAgree(filters: string[], objects: FilterObject[], go: ContainerdAnswer): void {
  const ours = strata(filters, objects);
  assert.equal(ours.error !== '', go.error !== '', `accepts: strata ${ours.error || 'yes'}; containerd ${go.error || 'yes'}`);
  if (ours.error !== '' && filters.every((filter) => /^[\x00-\x7f]*$/.test(filter))) {
    assert.equal(`${ours.error}: invalid argument`, go.error);
  }
  assert.deepEqual(ours.matches, go.matches);
}

// ---- rendering text as the grammar quotes it ---------------------------------

type Quote = '"' | '/' | '|';

const CONTROL_ESCAPES: Record<string, string> = { '\x07': 'a', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v' };

/**
 * `text` quoted with Go's escapes, each character written as chosen by
 * `styles` (cycled; empty means literally where that is legal): literal,
 * control escape, \x, octal, \u, \U, or its UTF-8 bytes as \x escapes.
 */
function quote(text: string, q: Quote, styles: number[]): string {
  const chars = [...text].map((char, i) => {
    const code = char.codePointAt(0) as number;
    const style = styles.length === 0 ? 0 : styles[i % styles.length];
    const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
    if (char === q || char === '\\') return `\\${char}`;
    if (style === 1 && char in CONTROL_ESCAPES) return `\\${CONTROL_ESCAPES[char]}`;
    if (style === 2 && code < 0x80) return `\\x${hex(code, 2)}`;
    if (style === 3 && code < 0x80) return `\\${code.toString(8).padStart(3, '0')}`;
    if (style === 4 && code <= 0xffff) return `\\u${hex(code, 4)}`;
    if (style === 5) return `\\U${hex(code, 8)}`;
    if (style === 6) return [...Buffer.from(char)].map((byte) => `\\x${hex(byte, 2)}`).join('');
    // Literally, unless the scanner would stop at it.
    if (char === '\n') return '\\n';
    if (char === '\0') return '\\000';
    return char;
  });
  return `${q}${chars.join('')}${q}`;
}

/** Unquoted, a value runs to a space or comma and must not start with a quote, separator or operator. */
function bareValue(text: string): boolean {
  return /^[^\s/|".,=!~\0\ufffd][^\s,\0-\x1f\x7f\ufffd]*$/u.test(text);
}

const FIELD = /^[A-Za-z0-9_]+$/;

// ---- generated well-formed filters -------------------------------------------

/** Label keys and values the filters and the objects share, so that matches happen. */
interface Pool {
  keys: string[][];
  values: string[];
}

// Characters of values: ones the grammar treats specially, line breaks
// (Go's `.` skips only \n), a multi-byte letter, an astral one.
const VALUE_CHARS = [...'abc01_-./=!~"|\\ \t,\n\r', '\u2028', 'é', '😀'];
const valueText = fc.string({ unit: fc.constantFrom(...VALUE_CHARS), maxLength: 6 });

// Keys: plain words, ones that need quoting, and the names Object.prototype
// has, since strata looks labels up in plain objects.
const keySegment = fc.oneof(
  fc.stringMatching(/^[a-z0-9_]{1,5}$/),
  valueText,
  fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty'),
);
const labelKey = fc.array(keySegment, { minLength: 1, maxLength: 3 });

const poolArb: fc.Arbitrary<Pool> = fc.record({
  keys: fc.array(labelKey, { minLength: 1, maxLength: 4 }),
  values: fc.array(valueText, { minLength: 1, maxLength: 4 }),
});

/** Mostly literal characters, some escaped. */
const styles = fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.nat({ max: 6 })), { maxLength: 4 });

/** A field path segment: bare when it can be and `bare` is chosen, else quoted. */
const segment = (text: string) =>
  fc.record({ bare: fc.boolean(), styles }).map(({ bare, styles }) => (bare && FIELD.test(text) ? text : quote(text, '"', styles)));

function fieldpath(pool: Pool): fc.Arbitrary<string> {
  const single = fc.oneof(fc.constantFrom('name', 'kind', 'parent', 'labels', 'other'), fc.stringMatching(/^[A-Za-z0-9_]{1,4}$/));
  const path = fc.oneof(
    { weight: 2, arbitrary: single.map((field) => [field]) },
    { weight: 3, arbitrary: fc.oneof(fc.constantFrom(...pool.keys), labelKey).map((key) => ['labels', ...key]) },
    { weight: 1, arbitrary: fc.tuple(single, labelKey).map(([field, key]) => [field, ...key]) },
  );
  return path.chain((parts) => fc.tuple(...parts.map(segment))).map((parts) => parts.join('.'));
}

function value(pool: Pool): fc.Arbitrary<string> {
  return fc
    .record({ text: fc.oneof(fc.constantFrom(...pool.values), valueText), bare: fc.boolean(), styles })
    .map(({ text, bare, styles }) => (bare && bareValue(text) ? text : quote(text, '"', styles)));
}

/** A pattern after ~=: bare, "quoted", /quoted/ or |quoted|. */
function regexpValue(caseFolding: boolean): fc.Arbitrary<string> {
  return fc
    .record({ pattern: re2Pattern(caseFolding), q: fc.constantFrom<Quote | ''>('', '"', '/', '|'), styles })
    .map(({ pattern, q, styles }) => (q === '' && bareValue(pattern) ? pattern : quote(pattern, q || '/', styles)));
}

/** Spaces where the scanner skips them: before a token that scan() reads, not where the parser peeks. */
const space = fc.constantFrom('', '', '', ' ', '\t', '  ');

function selector(pool: Pool, caseFolding: boolean): fc.Arbitrary<string> {
  const operand = fc.oneof(
    fc.constant(''),
    fc.tuple(space, fc.constantFrom('==', '!='), space, value(pool)).map((parts) => parts.join('')),
    fc.tuple(space, fc.constant('~='), space, regexpValue(caseFolding)).map((parts) => parts.join('')),
  );
  return fc.tuple(space, fieldpath(pool), operand).map((parts) => parts.join(''));
}

function filterString(pool: Pool, caseFolding = true): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc.array(selector(pool, caseFolding), { minLength: 1, maxLength: 4 }).map((selectors) => selectors.join(',')),
    },
    { weight: 1, arbitrary: fc.constant('') },
  );
}

/** Usually one or two filter strings (OR), now and then none, which matches everything. */
function filterStrings(pool: Pool): fc.Arbitrary<string[]> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.array(filterString(pool), { minLength: 1, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constant<string[]>([]) },
  );
}

function objects(pool: Pool, texts: fc.Arbitrary<string>): fc.Arbitrary<FilterObject[]> {
  const text = fc.oneof(fc.constantFrom(...pool.values), texts);
  const key = fc.oneof(fc.constantFrom(...pool.keys).map((key) => key.join('.')), texts);
  const object = fc.record({
    fields: fc.record({ name: text, kind: text, parent: text, other: text }, { requiredKeys: [] }),
    labels: fc.array(fc.tuple(key, text), { maxLength: 4 }).map((entries) => Object.fromEntries(entries)),
  });
  return fc.array(object, { minLength: 1, maxLength: 5 });
}

/** Values a generated regexp has a fair chance to match. */
const regexpTexts = fc.string({ unit: fc.constantFrom(...PATTERN_CHARS, 'A', '7', 'Ω'), maxLength: 5 });

const wellFormed = poolArb.chain((pool) =>
  fc.record({ filters: filterStrings(pool), objects: objects(pool, fc.oneof(valueText, regexpTexts)) }),
);

// ---- arbitrary text ------------------------------------------------------------

const TEXT_UNITS = [...'abnlk01_.,=!~"/|\\ \tAé', 'name', 'labels.', '==', '~=', '\\x4'];
const textUnit = fc.constantFrom(...TEXT_UNITS);

/**
 * A well-formed filter with a few units inserted, deleted or replaced: text
 * near the grammar. Its patterns have no (?i), which edits would move off
 * the start, where strata cannot follow Go (see src/filters/regexp.ts).
 */
function mutatedFilter(pool: Pool): fc.Arbitrary<string> {
  const edit = fc.record({ at: fc.nat(), remove: fc.nat({ max: 2 }), insert: fc.option(textUnit) });
  return fc.tuple(filterString(pool, false), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([filter, edits]) =>
    edits.reduce((text, { at, remove, insert }) => {
      const chars = [...text];
      chars.splice(at % (chars.length + 1), remove, insert ?? '');
      return chars.join('');
    }, filter),
  );
}

/** Text over the grammar's characters, and mutated well-formed filters; words the text has a chance to name. */
const arbitraryText = poolArb.chain((pool) => {
  const filter = fc.oneof(fc.string({ unit: textUnit, maxLength: 16 }), mutatedFilter(pool));
  const words = { keys: [...pool.keys, ['a'], ['b'], ['a', 'b']], values: [...pool.values, 'a', 'b', ''] };
  return fc.record({
    filters: fc.array(filter, { minLength: 1, maxLength: 2 }),
    objects: objects(words, fc.oneof(valueText, fc.string({ unit: fc.constantFrom(...'abn.=/|\\"é '), maxLength: 4 }))),
  });
});

// ---- the properties -------------------------------------------------------------

describe('filters: strata against containerd', () => {
  let containerd: ContainerdFilters;

  before(async () => {
    containerd = await ContainerdFilters.start();
  });

  after(async () => {
    await containerd?.close();
  });

  it('agrees on generated well-formed filters, which both accept', async () => {
    await fc.assert(
      fc.asyncProperty(wellFormed, async ({ filters, objects }) => {
        const go = await containerd.evaluate(filters, objects);
        assert.equal(go.error, '', 'the generator made a filter containerd rejects');
        assertAgree(filters, objects, go);
      }),
      PARAMETERS,
    );
  });

  it('agrees on arbitrary text', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryText, async ({ filters, objects }) => {
        assertAgree(filters, objects, await containerd.evaluate(filters, objects));
      }),
      PARAMETERS,
    );
  });
});
