import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/package-root';
import type { Report } from '../model';
import { ratioChart } from './chart';
import { escapeHtml, htmlReport } from './html';
import { sections } from './table';

const results = path.join(packageRoot(), 'native-bench', 'results');
const read = (run: string) => JSON.parse(fs.readFileSync(path.join(results, run, 'bench.json'), 'utf8')) as Report;
const HOSTILE = `<img src="http://127.0.0.1:9/x.png" onerror='alert(1)'>&amp;`;

/** A report whose every kind of string holds markup. */
function hostile(): Report {
  const report = read('first-pulls-1.7.13');
  return {
    ...report,
    machine: { ...report.machine, cpu: HOSTILE, filesystem: HOSTILE, containerd: HOSTILE },
    options: { ...report.options, workDir: HOSTILE, userImages: [HOSTILE] },
    measurements: report.measurements.map((m) => ({ ...m, arm: HOSTILE, subject: HOSTILE })),
    ratios: report.ratios.map((r) => ({ ...r, kind: `${HOSTILE}: A / B`, subject: HOSTILE })),
  };
}

test('every string from the report is escaped, in the page and in its chart', async () => {
  const report = hostile();
  const page = htmlReport(report, await ratioChart(report));
  // No tag of the string's made it out (that a browser makes no request for it: bench-html.test.ts).
  assert.doesNotMatch(page, /<img/);
  assert.ok(page.includes(escapeHtml(HOSTILE)));
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('the page refers to nothing outside it, and forbids any fetch', async () => {
  const report = read('disk-run');
  const page = htmlReport(report, await ratioChart(report));
  assert.doesNotMatch(page, /<script|<link|<img|<iframe|<object|@import|url\(|\b(src|href|srcset|action)\s*=/i);
  assert.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
});

test('the page holds the run and machine details, the chart inline and every table', async () => {
  const report = read('disk-run');
  const chart = await ratioChart(report);
  const page = htmlReport(report, chart);
  for (const detail of ['2026-12-02 11:46 UTC', '70 min', '>1<', '>full<', '1.6.20~ds1', '>ext4<', 'gzip, zstd, none', '/var/tmp/strata-bench-work']) assert.ok(page.includes(detail), detail);
  assert.ok(page.includes(chart));
  for (const section of sections(report)) assert.ok(page.includes(`<h2>${escapeHtml(section.title)}</h2>`), section.title);
  assert.match(page, /<p class="indicative">Indicative: 1 repetition; compare runs of 3 or more<\/p>/);
  const quiet = htmlReport(read('disk-apply'), undefined);
  assert.doesNotMatch(quiet, /Indicative|<svg/);
});
