import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKind } from '../errdefs';
import { labelField, parseFilters, type FieldLookup } from './index';
import { unquote } from './unquote';

/** The corpus of containerd's filters/filter_test.go. */
interface Entry {
  name: string;
  other?: string;
  labels?: Record<string, string>;
}

const corpus: Entry[] = [
  { name: 'foo', labels: { foo: 'true' } },
  { name: 'bar' },
  { name: 'foo', labels: { foo: 'present', 'more complex label': 'present' } },
  { name: 'bar', labels: { bar: 'true' } },
  { name: 'fooer', labels: { 'more complex label with \\ and "': 'present' } },
  { name: 'fooer', labels: { 'more complex label with \\ and ".post': 'present' } },
  { name: 'baz', other: 'too complex, yo' },
  { name: 'bazo', other: 'abc' },
  { name: 'compound', labels: { foo: 'omg_asdf.asdf-qwer' } },
];

/** Like the test's adaptor: name and other are present when not empty. */
function entryLookup(entry: Entry): FieldLookup {
  return ([field, ...rest]) => {
    switch (field) {
      case 'name':
        return entry.name || undefined;
      case 'other':
        return entry.other || undefined;
      case 'labels':
        return entry.labels?.[rest.join('.')];
      default:
        return undefined;
    }
  };
}

/** Indexes into the corpus of the entries the filters match. */
function matching(filters: string[]): number[] {
  const filter = parseFilters(filters);
  return corpus.flatMap((entry, index) => (filter.match(entryLookup(entry)) ? [index] : []));
}

function assertSyntaxError(filters: string[], message: string): void {
  assert.throws(
    () => parseFilters(filters),
    (err: unknown) => {
      assert.ok(isKind(err, 'InvalidArgument'), `expected InvalidArgument, got ${String(err)}`);
      assert.equal((err as Error).message, message);
      return true;
    },
  );
}

const all = corpus.map((_, index) => index);

const matchCases: { name: string; input: string; expected: number[] }[] = [
  { name: 'empty', input: '', expected: all },
  { name: 'present', input: 'name', expected: all },
  { name: 'label present', input: 'labels.foo', expected: [0, 2, 8] },
  { name: 'label and name present', input: 'labels.foo,name', expected: [0, 2, 8] },
  { name: 'label value', input: 'labels.foo==true', expected: [0] },
  { name: 'label value punctuated', input: 'labels.foo==omg_asdf.asdf-qwer', expected: [8] },
  { name: 'name', input: 'name==bar', expected: [1, 3] },
  { name: 'name not equal', input: 'name!=bar', expected: [0, 2, 4, 5, 6, 7, 8] },
  { name: 'name and label present', input: 'name==bar,labels.bar', expected: [3] },
  { name: 'quoted value', input: 'other=="too complex, yo"', expected: [6] },
  { name: 'regexp value', input: 'other~=[abc]+,name!=foo', expected: [6, 7] },
  { name: 'regexp quoted value', input: 'other~=/[abc]+/,name!=foo', expected: [6, 7] },
  { name: 'regexp quoted value with comma', input: 'other~=/[abc]{1,2}/,name!=foo', expected: [6, 7] },
  { name: 'regexp quoted value garbage', input: 'other~=/[abc]{0,1}"\\//,name!=foo', expected: [] },
  { name: 'name and label value', input: 'name==bar,labels.bar==true', expected: [3] },
  { name: 'name and label value no match', input: 'name==bar,labels.bar==wrong', expected: [] },
  { name: 'quoted field path present', input: 'name==foo,labels."more complex label"', expected: [2] },
  {
    name: 'quoted field path with escapes',
    input: 'labels."more complex label with \\\\ and \\""==present',
    expected: [4],
  },
  {
    name: 'quoted field path with escapes followed by a field',
    input: 'labels."more complex label with \\\\ and \\"".post==present',
    expected: [5],
  },
];

for (const { name, input, expected } of matchCases) {
  test(`filter matches: ${name}`, () => {
    assert.deepEqual(matching([input]), expected);
  });
}

const syntaxErrorCases: { name: string; input: string; message: string }[] = [
  {
    name: 'pipe quotes outside a regexp',
    input: 'labels.|foo|==omg_asdf.asdf-qwer',
    message: 'filters: parse error: [labels. >|||< foo|==omg_asdf.asdf-qwer]: invalid quote encountered',
  },
  {
    name: 'character that starts no field',
    input: 'labels.?"more complex label with \\\\ and \\"".post==present',
    message:
      'filters: parse error: [labels. >|?|< "more complex label with \\\\ and \\"".post==present]: expected field or quoted',
  },
  {
    name: 'trailing comma',
    input: 'name==foo,',
    message: 'filters: parse error: [name==foo,]: expected field or quoted',
  },
  {
    name: 'trailing field separator',
    input: 'labels.',
    message: 'filters: parse error: [labels.]: expected field or quoted',
  },
  {
    name: 'missing value',
    input: 'image~=,id?=?fbaq',
    message: 'filters: parse error: [image~= >|,|< id?=?fbaq]: expected value or quoted',
  },
  {
    name: 'slash in an unquoted field',
    input: 'labels.ns/key==value',
    message: 'filters: parse error: [labels.ns >|/|< key==value]: quoted literal not terminated',
  },
  {
    name: 'unterminated regexp quote',
    input: 'labels.key==/value',
    message: 'filters: parse error: [labels.key== >|/|< value]: quoted literal not terminated',
  },
  {
    name: 'slash quotes after ==',
    input: 'name==/foo/',
    message: 'filters: parse error: [name== >|/|< foo/]: invalid quote encountered',
  },
  {
    name: 'single =',
    input: 'name=foo',
    message: 'filters: parse error: [name >|=|< foo]: unsupported operator "="',
  },
  {
    name: 'missing operator',
    input: 'name foo',
    message: 'filters: parse error: [name  >|f|< oo]: expected an operator ("=="|"!="|"~=")',
  },
  {
    name: 'space before a comma',
    input: 'name == bar , labels.bar',
    message: 'filters: parse error: [name == bar >| |< , labels.bar]: unexpected input:  ',
  },
  {
    name: 'trailing space, which containerd does not skip',
    input: 'name==foo ',
    message: 'filters: parse error: [name==foo >| |< ]: unexpected input:  ',
  },
  {
    name: 'second value',
    input: 'name=="foo"bar',
    message: 'filters: parse error: [name=="foo" >|b|< ar]: unexpected input: b',
  },
  {
    name: 'octal escape above \\377',
    input: 'labels."\\400"',
    message: 'filters: parse error: [labels. >|"|< \\400"]: unquoting failed: quote syntax error',
  },
  {
    name: 'null character',
    input: 'name\x00',
    message: 'filters: parse error: [name >|\x00|< ]: unexpected null',
  },
  {
    name: 'only spaces',
    input: ' ',
    message: 'filters: parse error: [ ]: expected field or quoted',
  },
];

for (const { name, input, message } of syntaxErrorCases) {
  test(`filter syntax error: ${name}`, () => {
    assertSyntaxError([input], message);
  });
}

test('filter syntax error: one bad string fails the whole list', () => {
  assertSyntaxError(['name==foo', 'name=='], 'filters: parse error: [name==]: expected value or quoted');
});

test('filters: no strings match everything, and so does an empty string', () => {
  assert.deepEqual(matching([]), all);
  assert.deepEqual(matching(['', 'name==nothing']), all);
});

test('filters: several strings match when any of them does', () => {
  assert.deepEqual(matching(['name==bar', 'labels.foo==true']), [0, 1, 3]);
  assert.deepEqual(matching(['name==baz', 'name==bazo', 'name==none']), [6, 7]);
});

test('filters: spaces before an operator, a value or a field are skipped', () => {
  assert.deepEqual(matching(['name == bar, labels.bar']), [3]);
});

test('filters: a field present with an empty value counts as present', () => {
  const lookup: FieldLookup = ([field]) => (field === 'parent' ? '' : undefined);
  assert.equal(parseFilters(['parent']).match(lookup), true);
  assert.equal(parseFilters(['missing']).match(lookup), false);
});

test('filters: == needs the field, != and ~= treat an absent field as empty', () => {
  const absent: FieldLookup = () => undefined;
  assert.equal(parseFilters(['labels.x==""']).match(absent), false);
  assert.equal(parseFilters(['labels.x!=y']).match(absent), true);
  assert.equal(parseFilters(['labels.x!=""']).match(absent), false);
  assert.equal(parseFilters(['labels.x~=^$']).match(absent), true);
  assert.equal(parseFilters(['labels.x==""']).match(() => ''), true);
});

test('filters: the lookup gets the unquoted field path', () => {
  const seen: string[][] = [];
  parseFilters(['labels."containerd.io/gc.root"."a\\x41\\u00e9"']).match((fieldpath) => {
    seen.push(fieldpath);
    return undefined;
  });
  assert.deepEqual(seen, [['labels', 'containerd.io/gc.root', 'aAé']]);
});

test('filters: a value that is not UTF-8 equals nothing', () => {
  const lookup: FieldLookup = () => '\ufffd';
  assert.equal(parseFilters(['x=="\\xff"']).match(lookup), false);
  assert.equal(parseFilters(['x!="\\xff"']).match(lookup), true);
  // Byte escapes that form UTF-8 decode to the character.
  assert.equal(parseFilters(['x=="\\303\\251"']).match(() => 'é'), true);
});

test('filters: a regexp that does not compile matches nothing', () => {
  const lookup: FieldLookup = () => 'a';
  assert.equal(parseFilters(['x~=(']).match(lookup), false);
  assert.equal(parseFilters(['x~=|a|']).match(lookup), true);
  assert.equal(parseFilters(['x~=^a$']).match(lookup), true);
});

test('unquote: Go escapes, and the quote character escaped', () => {
  assert.equal(unquote('"a\\tb\\\\c\\"d"'), 'a\tb\\c"d');
  assert.equal(unquote('/a\\/b/'), 'a/b');
  assert.equal(unquote('|a\\|b|'), 'a|b');
  assert.equal(unquote('"\\U0001F600\\u00e9\\101"'), '😀éA');
  assert.equal(unquote('"\\ud800"'), '\ufffd');
  assert.equal(unquote('"\\U00110000"'), undefined);
  // Go gathers the digits in an int32: from \U80000000 on it wraps, passes the range check, and encodes U+FFFD.
  assert.equal(unquote('"\\U7fffffff"'), undefined);
  assert.equal(unquote('"\\Ua0000065"'), '\ufffd');
  assert.equal(unquote('"\\/"'), undefined);
});

test('labelField: only the labels themselves, not what every object inherits', () => {
  const labels = { 'a.b': '1' };
  assert.equal(labelField(labels, ['labels', 'a', 'b']), '1');
  assert.equal(labelField(labels, ['labels', 'constructor']), undefined);
  assert.equal(labelField(labels, ['labels', '__proto__']), undefined);
  assert.equal(parseFilters(['labels.toString']).match((fieldpath) => labelField(labels, fieldpath)), false);
});

/** Snapshots as containerd's snapshotter test suite (checkWalk) creates them. */
interface Snapshot {
  name: string;
  kind: 'active' | 'view' | 'committed';
  parent: string;
  labels: Record<string, string>;
}

const gcRoot = { 'containerd.io/gc.root': 'check-walk' };
const snapshots: Snapshot[] = [
  { name: 'a-np', kind: 'active', parent: '', labels: gcRoot },
  { name: 'p', kind: 'committed', parent: '', labels: gcRoot },
  { name: 'a', kind: 'active', parent: 'p', labels: gcRoot },
  { name: 'v', kind: 'view', parent: 'p', labels: gcRoot },
  { name: 'p-wl', kind: 'committed', parent: '', labels: { ...gcRoot, l: '1' } },
  { name: 'a-wl', kind: 'active', parent: 'p-wl', labels: { ...gcRoot, l: '2' } },
  { name: 'v-wl', kind: 'view', parent: 'p-wl', labels: { ...gcRoot, l: '3' } },
  { name: 'a-np-wl', kind: 'active', parent: '', labels: { ...gcRoot, l: '2' } },
];

/** Like containerd's snapshot adaptor: kind, name and parent are always present. */
function snapshotLookup(snapshot: Snapshot): FieldLookup {
  return ([field, ...rest]) => {
    switch (field) {
      case 'kind':
        return snapshot.kind;
      case 'name':
        return snapshot.name;
      case 'parent':
        return snapshot.parent;
      case 'labels':
        return snapshot.labels[rest.join('.')];
      default:
        return undefined;
    }
  };
}

const walkCases: { filters: string[]; matches: string[] }[] = [
  {
    filters: ['labels."containerd.io/gc.root"==check-walk'],
    matches: ['a-np', 'p', 'a', 'v', 'p-wl', 'a-wl', 'v-wl', 'a-np-wl'],
  },
  { filters: ['kind==active,labels."containerd.io/gc.root"==check-walk'], matches: ['a-np', 'a', 'a-wl', 'a-np-wl'] },
  { filters: ['kind==view,labels."containerd.io/gc.root"==check-walk'], matches: ['v', 'v-wl'] },
  { filters: ['kind==committed,labels."containerd.io/gc.root"==check-walk'], matches: ['p', 'p-wl'] },
  { filters: ['name==p', 'name==a-np-wl'], matches: ['p', 'a-np-wl'] },
  { filters: ['name==a-wl,labels.l'], matches: ['a-wl'] },
  { filters: ['parent==p'], matches: ['a', 'v'] },
  { filters: ['parent!=""'], matches: ['a', 'v', 'a-wl', 'v-wl'] },
  { filters: ['parent!="",labels."containerd.io/gc.root"==check-walk'], matches: ['a', 'v', 'a-wl', 'v-wl'] },
  { filters: ['labels.l'], matches: ['p-wl', 'a-wl', 'v-wl', 'a-np-wl'] },
  { filters: ['labels.l==2'], matches: ['a-wl', 'a-np-wl'] },
];

for (const { filters, matches } of walkCases) {
  test(`snapshot walk: ${filters.join(' OR ')}`, () => {
    const filter = parseFilters(filters);
    const names = snapshots.filter((snapshot) => filter.match(snapshotLookup(snapshot))).map(({ name }) => name);
    assert.deepEqual(names.sort(), [...matches].sort());
  });
}
