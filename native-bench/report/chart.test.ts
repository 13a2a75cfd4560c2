import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/package-root';
import type { Ratio, Report } from '../model';
import { CHART_TITLE, FASTER, SLOWER, labelRoom, plotWidth, ratioChartSpec, ratioChartView, ratioDomain, ratioTicks } from './chart';

const results = path.join(packageRoot(), 'native-bench', 'results');
/** Every report kept in native-bench/results: the README's, and each run's in a directory of its own. */
const kept = [
  path.join(results, 'bench.json'),
  ...fs
    .readdirSync(results, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(results, entry.name, 'bench.json')))
    .map((entry) => path.join(results, entry.name, 'bench.json')),
];
const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Report;
/** A kept report of three repetitions at full scale. */
const full = read(path.join(results, 'first-pulls-1.7.13', 'bench.json'));

const withRatios = (ratios: Ratio[], options: Record<string, unknown> = {}): Report => ({ ...full, ratios, options: { ...full.options, ...options } });

interface Drawn {
  marktype: string;
  role: string;
  /** Its lines: a title or subtitle item can hold several. */
  lines: string[];
  /** Drawn in a panel (a facet's cell), not around them. */
  inPanel: boolean;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

interface SceneMark {
  marktype: string;
  role: string;
  name?: string;
  items: SceneItem[];
}

interface SceneItem {
  x?: number;
  y?: number;
  text?: unknown;
  opacity?: number;
  bounds: { x1: number; y1: number; x2: number; y2: number };
  items?: SceneMark[];
}

/** Every visible item of the chart where it is drawn, in the chart's coordinates. */
function drawn(mark: SceneMark, dx = 0, dy = 0, inPanel = false, out: Drawn[] = []): Drawn[] {
  const panel = inPanel || mark.name === 'cell';
  for (const item of mark.items) {
    if (item.opacity === 0) continue;
    const b = item.bounds;
    const lines = item.text === undefined ? [] : Array.isArray(item.text) ? item.text.map(String) : [String(item.text)];
    out.push({ marktype: mark.marktype, role: mark.role, lines, inPanel: panel, x1: b.x1 + dx, y1: b.y1 + dy, x2: b.x2 + dx, y2: b.y2 + dy });
    for (const child of item.items ?? []) drawn(child, dx + (item.x ?? 0), dy + (item.y ?? 0), panel, out);
  }
  return out;
}

async function scene(report: Report): Promise<Drawn[]> {
  const view = await ratioChartView(report);
  return drawn(view.scenegraph().root as SceneMark);
}

/** Do the two boxes share more than a hairline? */
const overlap = (a: Drawn, b: Drawn) => Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) > 0.5 && Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) > 0.5;
const texts = (items: Drawn[]) => items.filter((d) => d.marktype === 'text' && d.lines.some((line) => line !== ''));
const shownLines = (items: Drawn[]) => texts(items).flatMap((d) => d.lines);
/** The panels' titles, top to bottom. */
const panelTitles = (items: Drawn[]) => items.filter((d) => d.role === 'title-text' && d.inPanel).sort((a, b) => a.y1 - b.y1).map((d) => d.lines.join(' '));

test('the axis spans the ratios and 1, and leaves room for a label at either end', () => {
  const width = 600;
  const room = labelRoom(['0.58', '3.02']);
  const [low, high] = ratioDomain([0.58, 3.02], width, room);
  const x = (r: number) => (width * Math.log10(r / low)) / Math.log10(high / low);
  assert.ok(low < 0.58 && high > 3.02);
  assert.ok(Math.abs(x(0.58) - room) < 0.01 && Math.abs(width - x(3.02) - room) < 0.01, 'room for a label beside each end');
  // The data fill the rest, not a fixed 0.1 to 10.
  assert.ok(x(3.02) - x(0.58) > width - 2 * room - 0.01);
  // 1 stays in, even when every ratio is on one side of it.
  const [above] = ratioDomain([2, 5], width, room);
  assert.ok(above < 1);
  const [, below] = ratioDomain([0.2, 0.5], width, room);
  assert.ok(below > 1);
});

test('ticks are round, in the axis, and include 1', () => {
  for (const domain of [[0.51, 3.4], [0.007, 1.5], [0.75, 1.3], [0.09, 12]] as [number, number][]) {
    const ticks = ratioTicks(domain);
    assert.ok(ticks.includes(1), `${domain}: ${ticks}`);
    assert.ok(ticks.length >= 4, `${domain}: ${ticks}`);
    for (const t of ticks) assert.ok(t >= domain[0] && t <= domain[1], `${domain}: ${t} outside`);
  }
  assert.deepEqual(ratioTicks([0.007, 1.5]), [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
});

test('the image names get what they need, and the bars the rest of the width', () => {
  assert.ok(plotWidth(['multi-layer gzip']) > 700);
  assert.ok(plotWidth(['docker://registry.example:5000/a/very/long/repository/name:tag gzip']) >= 600);
});

test('panels come in the report\'s order, each titled "A / B", under a generic title', async () => {
  for (const file of kept) {
    const report = read(file);
    if (report.ratios.length === 0) continue;
    const kinds = [...new Set(report.ratios.map((r) => r.kind))];
    assert.deepEqual(panelTitles(await scene(report)), kinds, file);
    for (const kind of kinds) assert.match(kind, / \/ /, `${file}: a panel that does not say what is compared with what`);
  }
  const spec = JSON.stringify(ratioChartSpec(full));
  assert.ok(spec.includes(CHART_TITLE));
  assert.doesNotMatch(spec, /strata's time|strata is faster/);
});

test('a legend says what the colours mean; the subtitle gives the date, duration and repetitions', async () => {
  const shown = shownLines(await scene(full));
  assert.ok(shown.includes(FASTER) && shown.includes(SLOWER), 'a legend entry for each colour, even one no bar has');
  assert.ok(shown.includes(CHART_TITLE));
  assert.ok(shown.includes('2026-12-07 14:38 UTC, 6 min, 3 repetitions, full scale'), shown.join('\n'));
  assert.ok(!shown.some((t) => t.startsWith('Indicative')));
});

test('with fewer than 3 repetitions or in quick mode, the chart says its figures are indicative', async () => {
  const one = shownLines(await scene(withRatios(full.ratios, { repetitions: 1 })));
  assert.ok(one.includes('Indicative: 1 repetition; compare runs of 3 or more'), one.join('\n'));
  const quick = shownLines(await scene(withRatios(full.ratios, { repetitions: 1, scale: 0.02 })));
  assert.ok(quick.includes('Indicative: 1 repetition (quick mode, 2 % scale); compare full runs of 3 or more repetitions'), quick.join('\n'));
  assert.ok(quick.some((t) => t.endsWith('1 repetition, quick mode (2 % scale)')), quick.join('\n'));
  const quickThree = shownLines(await scene(withRatios(full.ratios, { repetitions: 3, scale: 0.02 })));
  assert.ok(quickThree.includes('Indicative: quick mode (2 % scale); compare full runs of 3 or more repetitions'), quickThree.join('\n'));
});

test('no label crosses a line, a bar or another label, and every value label is inside its plot', async () => {
  const extremes = withRatios(
    [0.0012, 0.5, 0.999, 1, 1.001, 2, 123.4]
      .map((ratio, i) => ({ kind: 'extremes: A / B', subject: `case ${i}`, ratio }))
      .concat([{ kind: 'close to 1: A / B', subject: 'only', ratio: 1.02 }]),
  );
  for (const report of [...kept.map(read), extremes]) {
    if (report.ratios.length === 0) continue;
    const at = `${report.startedAt} (${report.ratios.length} ratios)`;
    const items = await scene(report);
    const labels = texts(items);
    const lines = items.filter((d) => d.marktype === 'rule' || d.marktype === 'line');
    const bars = items.filter((d) => d.marktype === 'rect' && d.role === 'mark');
    const values = labels.filter((d) => d.role === 'mark');
    assert.equal(values.length, report.ratios.length, `${at}: a value label for every bar`);
    for (const [i, a] of labels.entries()) {
      for (const line of lines) assert.ok(!overlap(a, line), `${at}: "${a.lines}" crosses a line at ${line.x1},${line.y1}`);
      for (const b of labels.slice(i + 1)) assert.ok(!overlap(a, b), `${at}: "${a.lines}" and "${b.lines}" overlap`);
    }
    for (const value of values) for (const bar of bars) assert.ok(!overlap(value, bar), `${at}: "${value.lines}" on a bar`);
    // Every panel's plot spans the same pixels: its x axis's line.
    const xAxis = items.find((d) => d.role === 'axis-domain' && d.x2 - d.x1 > d.y2 - d.y1);
    assert.ok(xAxis);
    for (const value of values) assert.ok(value.x1 >= xAxis.x1 && value.x2 <= xAxis.x2, `${at}: "${value.lines}" outside the plot`);
  }
});
