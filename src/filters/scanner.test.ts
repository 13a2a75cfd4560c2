import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scanner, type TokenKind } from './scanner';

// The cases of containerd's filters/scanner_test.go. Offsets count UTF-16 code
// units where containerd counts bytes, which only differs for non-ASCII input.

interface ExpectedToken {
  pos: number;
  kind: TokenKind;
  text?: string;
  error?: string;
}

function scanAll(input: string): ExpectedToken[] {
  const scanner = new Scanner(input);
  const tokens: ExpectedToken[] = [];
  for (;;) {
    const { pos, kind, text } = scanner.scan();
    const token: ExpectedToken = { pos, kind };
    if (text !== '') token.text = text;
    if (kind === 'illegal') token.error = scanner.error;
    tokens.push(token);
    if (kind === 'eof') return tokens;
  }
}

const cases: { name: string; input: string; expected: ExpectedToken[] }[] = [
  {
    name: 'field',
    input: 'name',
    expected: [
      { pos: 0, kind: 'field', text: 'name' },
      { pos: 4, kind: 'eof' },
    ],
  },
  {
    name: 'selectors with operators',
    input: 'name==value,foo!=bar',
    expected: [
      { pos: 0, kind: 'field', text: 'name' },
      { pos: 4, kind: 'operator', text: '==' },
      { pos: 6, kind: 'value', text: 'value' },
      { pos: 11, kind: 'separator', text: ',' },
      { pos: 12, kind: 'field', text: 'foo' },
      { pos: 15, kind: 'operator', text: '!=' },
      { pos: 17, kind: 'value', text: 'bar' },
      { pos: 20, kind: 'eof' },
    ],
  },
  {
    name: 'selectors with field paths',
    input: 'name==value,labels.foo=value,other.bar~=match',
    expected: [
      { pos: 0, kind: 'field', text: 'name' },
      { pos: 4, kind: 'operator', text: '==' },
      { pos: 6, kind: 'value', text: 'value' },
      { pos: 11, kind: 'separator', text: ',' },
      { pos: 12, kind: 'field', text: 'labels' },
      { pos: 18, kind: 'separator', text: '.' },
      { pos: 19, kind: 'field', text: 'foo' },
      { pos: 22, kind: 'operator', text: '=' },
      { pos: 23, kind: 'value', text: 'value' },
      { pos: 28, kind: 'separator', text: ',' },
      { pos: 29, kind: 'field', text: 'other' },
      { pos: 34, kind: 'separator', text: '.' },
      { pos: 35, kind: 'field', text: 'bar' },
      { pos: 38, kind: 'operator', text: '~=' },
      { pos: 40, kind: 'value', text: 'match' },
      { pos: 45, kind: 'eof' },
    ],
  },
  {
    name: 'regexp value',
    input: 'name~=[abc]+,foo=test',
    expected: [
      { pos: 0, kind: 'field', text: 'name' },
      { pos: 4, kind: 'operator', text: '~=' },
      { pos: 6, kind: 'value', text: '[abc]+' },
      { pos: 12, kind: 'separator', text: ',' },
      { pos: 13, kind: 'field', text: 'foo' },
      { pos: 16, kind: 'operator', text: '=' },
      { pos: 17, kind: 'value', text: 'test' },
      { pos: 21, kind: 'eof' },
    ],
  },
  {
    name: 'regexp escaped value',
    input: 'name~=[abc]\\+,foo=test',
    expected: [
      { pos: 0, kind: 'field', text: 'name' },
      { pos: 4, kind: 'operator', text: '~=' },
      { pos: 6, kind: 'value', text: '[abc]\\+' },
      { pos: 13, kind: 'separator', text: ',' },
      { pos: 14, kind: 'field', text: 'foo' },
      { pos: 17, kind: 'operator', text: '=' },
      { pos: 18, kind: 'value', text: 'test' },
      { pos: 22, kind: 'eof' },
    ],
  },
  {
    name: 'regexp quoted value',
    input: 'name~=/[abc]{0,2}/,foo=test',
    expected: [
      { pos: 0, kind: 'field', text: 'name' },
      { pos: 4, kind: 'operator', text: '~=' },
      { pos: 6, kind: 'quoted', text: '/[abc]{0,2}/' },
      { pos: 18, kind: 'separator', text: ',' },
      { pos: 19, kind: 'field', text: 'foo' },
      { pos: 22, kind: 'operator', text: '=' },
      { pos: 23, kind: 'value', text: 'test' },
      { pos: 27, kind: 'eof' },
    ],
  },
  {
    name: 'non-ASCII value',
    input: 'name~=牛,labels.moo=true',
    expected: [
      { pos: 0, kind: 'field', text: 'name' },
      { pos: 4, kind: 'operator', text: '~=' },
      { pos: 6, kind: 'value', text: '牛' },
      { pos: 7, kind: 'separator', text: ',' },
      { pos: 8, kind: 'field', text: 'labels' },
      { pos: 14, kind: 'separator', text: '.' },
      { pos: 15, kind: 'field', text: 'moo' },
      { pos: 18, kind: 'operator', text: '=' },
      { pos: 19, kind: 'value', text: 'true' },
      { pos: 23, kind: 'eof' },
    ],
  },
  {
    name: 'non-ASCII regexp quoted with pipes',
    input: 'name~=|牛|,labels.moo=true',
    expected: [
      { pos: 0, kind: 'field', text: 'name' },
      { pos: 4, kind: 'operator', text: '~=' },
      { pos: 6, kind: 'quoted', text: '|牛|' },
      { pos: 9, kind: 'separator', text: ',' },
      { pos: 10, kind: 'field', text: 'labels' },
      { pos: 16, kind: 'separator', text: '.' },
      { pos: 17, kind: 'field', text: 'moo' },
      { pos: 20, kind: 'operator', text: '=' },
      { pos: 21, kind: 'value', text: 'true' },
      { pos: 25, kind: 'eof' },
    ],
  },
  {
    name: 'escapes',
    input: 'name~="asdf\\n\\tfooo"',
    expected: [
      { pos: 0, kind: 'field', text: 'name' },
      { pos: 4, kind: 'operator', text: '~=' },
      { pos: 6, kind: 'quoted', text: '"asdf\\n\\tfooo"' },
      { pos: 20, kind: 'eof' },
    ],
  },
  {
    name: 'null input',
    input: 'foo\x00bar',
    expected: [
      { pos: 0, kind: 'field', text: 'foo' },
      { pos: 3, kind: 'illegal', error: 'unexpected null' },
      { pos: 4, kind: 'field', text: 'bar' },
      { pos: 7, kind: 'eof' },
    ],
  },
  {
    name: 'spaces chomped',
    input: 'foo = bar    ',
    expected: [
      { pos: 0, kind: 'field', text: 'foo' },
      { pos: 4, kind: 'operator', text: '=' },
      { pos: 6, kind: 'value', text: 'bar' },
      { pos: 13, kind: 'eof' },
    ],
  },
  {
    name: 'values punctuated',
    input: 'compound.labels==punctuated_value.foo-bar',
    expected: [
      { pos: 0, kind: 'field', text: 'compound' },
      { pos: 8, kind: 'separator', text: '.' },
      { pos: 9, kind: 'field', text: 'labels' },
      { pos: 15, kind: 'operator', text: '==' },
      { pos: 17, kind: 'value', text: 'punctuated_value.foo-bar' },
      { pos: 41, kind: 'eof' },
    ],
  },
  {
    name: 'partial input',
    input: 'interrupted=',
    expected: [
      { pos: 0, kind: 'field', text: 'interrupted' },
      { pos: 11, kind: 'operator', text: '=' },
      { pos: 12, kind: 'eof' },
    ],
  },
  {
    name: 'double value',
    input: 'doublevalue=value value',
    expected: [
      { pos: 0, kind: 'field', text: 'doublevalue' },
      { pos: 11, kind: 'operator', text: '=' },
      { pos: 12, kind: 'value', text: 'value' },
      { pos: 18, kind: 'field', text: 'value' },
      { pos: 23, kind: 'eof' },
    ],
  },
  {
    name: 'leading with quoted',
    input: '"leading quote".postquote==value',
    expected: [
      { pos: 0, kind: 'quoted', text: '"leading quote"' },
      { pos: 15, kind: 'separator', text: '.' },
      { pos: 16, kind: 'field', text: 'postquote' },
      { pos: 25, kind: 'operator', text: '==' },
      { pos: 27, kind: 'value', text: 'value' },
      { pos: 32, kind: 'eof' },
    ],
  },
  {
    name: 'missing value',
    input: 'input==,id!=ff',
    expected: [
      { pos: 0, kind: 'field', text: 'input' },
      { pos: 5, kind: 'operator', text: '==' },
      { pos: 7, kind: 'separator', text: ',' },
      { pos: 8, kind: 'field', text: 'id' },
      { pos: 10, kind: 'operator', text: '!=' },
      { pos: 12, kind: 'value', text: 'ff' },
      { pos: 14, kind: 'eof' },
    ],
  },
  {
    name: 'quoted regexp',
    input: 'input~=/foo\\/bar/,id!=ff',
    expected: [
      { pos: 0, kind: 'field', text: 'input' },
      { pos: 5, kind: 'operator', text: '~=' },
      { pos: 7, kind: 'quoted', text: '/foo\\/bar/' },
      { pos: 17, kind: 'separator', text: ',' },
      { pos: 18, kind: 'field', text: 'id' },
      { pos: 20, kind: 'operator', text: '!=' },
      { pos: 22, kind: 'value', text: 'ff' },
      { pos: 24, kind: 'eof' },
    ],
  },
  {
    name: 'quoted regexp with pipes',
    input: 'input~=|foo/bar|,id!=ff',
    expected: [
      { pos: 0, kind: 'field', text: 'input' },
      { pos: 5, kind: 'operator', text: '~=' },
      { pos: 7, kind: 'quoted', text: '|foo/bar|' },
      { pos: 16, kind: 'separator', text: ',' },
      { pos: 17, kind: 'field', text: 'id' },
      { pos: 19, kind: 'operator', text: '!=' },
      { pos: 21, kind: 'value', text: 'ff' },
      { pos: 23, kind: 'eof' },
    ],
  },
  {
    name: 'illegal quoted',
    input: 'labels.containerd.io/key==value',
    expected: [
      { pos: 0, kind: 'field', text: 'labels' },
      { pos: 6, kind: 'separator', text: '.' },
      { pos: 7, kind: 'field', text: 'containerd' },
      { pos: 17, kind: 'separator', text: '.' },
      { pos: 18, kind: 'field', text: 'io' },
      { pos: 20, kind: 'illegal', text: '/key==value', error: 'quoted literal not terminated' },
      { pos: 31, kind: 'eof' },
    ],
  },
  {
    name: 'illegal quoted with newline',
    input: 'labels."containerd.io\nkey"==value',
    expected: [
      { pos: 0, kind: 'field', text: 'labels' },
      { pos: 6, kind: 'separator', text: '.' },
      { pos: 7, kind: 'illegal', text: '"containerd.io\n', error: 'quoted literal not terminated' },
      { pos: 22, kind: 'field', text: 'key' },
      { pos: 25, kind: 'illegal', text: '"==value', error: 'quoted literal not terminated' },
      { pos: 33, kind: 'eof' },
    ],
  },
  {
    name: 'illegal escape sequence',
    input: 'labels."\\g"',
    expected: [
      { pos: 0, kind: 'field', text: 'labels' },
      { pos: 6, kind: 'separator', text: '.' },
      { pos: 7, kind: 'illegal', text: '"\\g"', error: 'illegal escape sequence' },
      { pos: 11, kind: 'eof' },
    ],
  },
  {
    name: 'illegal numeric escape sequence',
    input: 'labels."\\xaz"',
    expected: [
      { pos: 0, kind: 'field', text: 'labels' },
      { pos: 6, kind: 'separator', text: '.' },
      { pos: 7, kind: 'illegal', text: '"\\xaz"', error: 'illegal numeric escape sequence' },
      { pos: 13, kind: 'eof' },
    ],
  },
  {
    name: 'character that starts no token',
    input: 'name?',
    expected: [
      { pos: 0, kind: 'field', text: 'name' },
      { pos: 4, kind: 'unexpected', text: '?' },
      { pos: 5, kind: 'eof' },
    ],
  },
  {
    name: 'replacement character, which Go cannot tell from invalid UTF-8',
    input: 'a\ufffd',
    expected: [
      { pos: 0, kind: 'field', text: 'a' },
      { pos: 1, kind: 'illegal', error: 'rune error' },
      { pos: 2, kind: 'eof' },
    ],
  },
];

for (const { name, input, expected } of cases) {
  test(`scanner: ${name}`, () => {
    assert.deepEqual(scanAll(input), expected);
  });
}

test('scanner: keeps returning eof at the end', () => {
  const scanner = new Scanner('a');
  scanner.scan();
  assert.equal(scanner.scan().kind, 'eof');
  assert.equal(scanner.scan().kind, 'eof');
});
