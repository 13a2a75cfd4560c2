import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRegexp } from './regexp';

/** [pattern, text, whether Go's regexp.MatchString says it matches]; false too where Go refuses the pattern. */
const cases: [string, string, boolean][] = [
  // Escapes JavaScript's u flag refuses or reads otherwise.
  ['\\-', 'a-b', true],
  ['\\=', '=', true],
  ['\\a', '\x07', true],
  ['^\\Aab\\z$', 'ab', true],
  ['\\Qa.b\\E', 'a.b', true],
  ['\\Qa.b\\E', 'axb', false],
  ['\\x{1F600}', '😀', true],
  ['\\101\\0', 'A\0', true],
  ['\\s', '\v', false],
  ['\\s', '\u00a0', false],
  ['\\S', '\u00a0', true],
  // . skips only \n.
  ['a.c', 'a\rc', true],
  ['a.c', 'a\u2028c', true],
  ['a.c', 'a\nc', false],
  // Literal ] { }, counts, quantified anchors.
  ['a]}', 'a]}', true],
  ['a{', 'a{', true],
  ['a{01}', 'a{01}', true],
  ['a{2}', 'aa', true],
  ['a{1001}', 'a', false],
  ['^*a', 'a', true],
  ['\\b+a', 'a', true],
  // Classes.
  ['[\\d-z]', '-', true],
  ['[]a]', ']', true],
  ['[^]a]', 'b', true],
  ['[[:alpha:]]', 'x', true],
  ['[[:^alpha:]]', 'x', false],
  ['[[:foo:]]', 'f', false],
  ['[[:a-b]', '[', true],
  ['[\\b]', '\b', false],
  ['\\pL', 'é', true],
  ['\\p{Greek}', 'λ', true],
  ['\\p{^Greek}', 'λ', false],
  // Groups, and what Go has not: lookarounds, backreferences, \c, \u.
  ['(?P<1x>a)', 'a', true],
  ['(?:)', '', true],
  ['(?=a)', 'a', false],
  ['(a)\\1', 'aa', false],
  ['\\1', '1', false],
  ['\\c', 'c', false],
  ['\\u0041', 'A', false],
  ['\\é', 'é', false],
  ['a\\', 'a', false],
  // Flags.
  ['(?s)a.b', 'a\nb', true],
  ['a(?s:.).', 'a\n\n', false],
  ['(?m)^b$', 'a\nb\nc', true],
  ['(?m:^b)$', 'a\nb', true],
  ['(?U)a+', 'aa', true],
  ['(?)a', 'a', true],
  ['(?-)a', 'a', false],
  ['(?x)a', 'a', false],
  ['(?i)[a-c]x', 'BX', true],
  ['(?i)ß', 'ẞ', true],
  ['(?i)[^a]', 'A', false],
  ['(?i)\\P{Ll}', 'B', false],
  ['(?i)[^\\p{^Ll}]', 'b', true],
  ['(?i)[[:^upper:]]', 'a', false],
  ['(?i)[^x\\PL]', 'y', true],
  ['(?i)[^x\\PL]', 'X', false],
  ['(?i)[^\\W]', 'ſ', true],
];

for (const [pattern, text, matches] of cases) {
  test(`regexp: ${JSON.stringify(pattern)} on ${JSON.stringify(text)} as Go`, () => {
    assert.equal(compileRegexp(pattern)?.test(text) ?? false, matches);
  });
}

test('regexp: i for part of a pattern, which a RegExp cannot scope, matches nothing', () => {
  assert.equal(compileRegexp('a(?i)b'), undefined);
  assert.equal(compileRegexp('(?i:a)'), undefined);
});

test('regexp: bytes that are not UTF-8 (lone surrogates from unquote) make no pattern, as in Go', () => {
  assert.equal(compileRegexp('a|\udcff'), undefined);
});

test('regexp: a long pattern is rewritten in linear time', () => {
  const started = process.hrtime.bigint();
  assert.ok(compileRegexp(`[${'a'.repeat(200_000)}]`)?.test('a'));
  assert.ok(Number(process.hrtime.bigint() - started) / 1e9 < 2);
});
