import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/package-root';
import type { Report } from '../model';
import { headlineMarkdown, markdownTables, ratioText, textTables } from './table';

const results = path.join(packageRoot(), 'native-bench', 'results');
/** One repetition at full scale: every stddev is of one sample. */
const single = JSON.parse(fs.readFileSync(path.join(results, 'disk-run', 'bench.json'), 'utf8')) as Report;
const three = JSON.parse(fs.readFileSync(path.join(results, 'disk-apply', 'bench.json'), 'utf8')) as Report;
const NOTE = 'Indicative: 1 repetition; compare runs of 3 or more';

test('one repetition has no spread: its stddev is a dash, not 0.00', () => {
  const text = textTables(single);
  const row = text.split('\n').find((line) => /^node-modules gzip\s+strata overlayfs\s/.test(line));
  assert.ok(row, text);
  assert.match(row, /^node-modules gzip\s+strata overlayfs\s+\d+\.\d\d\s+–\s/);
  assert.doesNotMatch(text, / 0\.00 .* MB/);
  const threeText = textTables(three);
  assert.doesNotMatch(threeText, /\d\.\d\d\s+–\s/);
});

test('every table of indicative figures says so, once, near its top; others do not', () => {
  for (const rendered of [textTables(single), markdownTables(single), headlineMarkdown(single)]) {
    assert.equal(rendered.split(NOTE).length, 2, rendered.slice(0, 400));
    assert.ok(rendered.indexOf(NOTE) < 400);
  }
  for (const rendered of [textTables(three), markdownTables(three), headlineMarkdown(three)]) assert.doesNotMatch(rendered, /Indicative/);
});

test('the ratios table says what a ratio is, generically', () => {
  assert.match(textTables(three), /^Ratios: time of the first over the second \(below 1: the first is faster\)$/m);
  assert.doesNotMatch(textTables(three), /strata's time/);
});

test('a ratio that two decimals would show as 0.00 keeps one significant digit', () => {
  assert.equal(ratioText(0.0012), '0.001');
  assert.equal(ratioText(0.008), '0.01');
  assert.equal(ratioText(1.3826), '1.38');
  assert.equal(ratioText(NaN), '');
});
