// The ratios as an SVG bar chart, drawn by Vega-Lite: one panel per
// comparison ("A / B"), in the order the report gives them (the suite's
// groups), one bar per image (or scenario), drawn from 1 to the ratio on a
// log axis fitted to the data, so that each value label sits at the bar's
// far end, away from the rule at 1.
import type { Report } from '../model';
import { indicativeNote, runLine } from './run-details';
import { machineLine, ratioText } from './table';

// vega and vega-lite are ES modules with top-level await, which require()
// cannot load; this keeps a real import() through TypeScript's CommonJS output.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** The little of a Vega view the chart and its tests use. */
export interface ChartView {
  runAsync(): Promise<unknown>;
  toSVG(): Promise<string>;
  scenegraph(): { root: unknown };
}

interface Vega {
  View: new (runtime: unknown, options: { renderer: string; logLevel?: number }) => ChartView;
  parse(spec: unknown): unknown;
  logger(level: number): unknown;
  Error: number;
}

interface VegaLite {
  compile(spec: unknown, options?: { logger?: unknown }): { spec: unknown };
}

export const CHART_TITLE = 'Time of the first over the second; below 1, the first is faster';
export const FASTER = 'below 1: the first is faster';
export const SLOWER = 'above 1: the second is faster';

/** The whole chart's width, about; the bars get what the image names leave. */
const CHART_WIDTH = 900;
const FONT_SIZE = 10;
/** Vega sizes text it cannot measure (no canvas in Node) at 0.8 of the font size a character; so does this. */
const textWidth = (text: string) => Math.ceil(0.8 * FONT_SIZE * text.length);
const LABEL_LIMIT = 260;
/** A value label's distance from its bar's end. */
const LABEL_OFFSET = 4;
/** However close to 1 the ratios, the axis spans at least this factor either side of it. */
const MIN_SPAN = 1.25;

/** How wide the bars' plot is, given the longest image name beside it. */
export function plotWidth(subjects: readonly string[]): number {
  const longest = subjects.reduce((most, s) => Math.max(most, textWidth(s)), 0);
  return CHART_WIDTH - Math.min(LABEL_LIMIT, longest) - 20;
}

/** Room at each end of the axis for a value label beside the longest bar there. */
export function labelRoom(labels: readonly string[]): number {
  return labels.reduce((most, label) => Math.max(most, textWidth(label)), 0) + LABEL_OFFSET + 2;
}

/**
 * The log axis's ends: the smallest and largest ratio, and 1, widened so that
 * `room` pixels are left at either end for the labels beside the longest bars.
 */
export function ratioDomain(ratios: readonly number[], width: number, room: number): [number, number] {
  const low = ratios.reduce((least, r) => Math.min(least, r), 1 / MIN_SPAN);
  const high = ratios.reduce((most, r) => Math.max(most, r), MIN_SPAN);
  const decades = Math.log10(high / low);
  const pad = (room * decades) / (width - 2 * room);
  return [low / 10 ** pad, high * 10 ** pad];
}

/** Round values in the domain, 1 among them: whole decades if they are enough, else 1-2-5, else finer. */
export function ratioTicks([low, high]: readonly [number, number]): number[] {
  const steps = [[1], [1, 2, 5], [1, 1.5, 2, 3, 5, 7], [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9]];
  let ticks: number[] = [];
  for (const step of steps) {
    ticks = [];
    for (let decade = Math.floor(Math.log10(low)); decade <= Math.ceil(Math.log10(high)); decade++) {
      for (const s of step) {
        const value = Number((s * 10 ** decade).toPrecision(3));
        if (value >= low && value <= high) ticks.push(value);
      }
    }
    if (ticks.length >= 4) break;
  }
  return ticks;
}

export function ratioChartSpec(report: Report): Record<string, unknown> {
  // A ratio the report could not work out (null in its JSON) has no bar.
  const ratios = report.ratios.filter((r) => Number.isFinite(r.ratio) && r.ratio > 0);
  const values = ratios.map((r) => ({ comparison: r.kind, subject: r.subject, ratio: r.ratio, label: ratioText(r.ratio), verdict: r.ratio < 1 ? FASTER : SLOWER }));
  const width = plotWidth(ratios.map((r) => r.subject));
  const domain = ratioDomain(ratios.map((r) => r.ratio), width, labelRoom(values.map((v) => v.label)));
  const x = {
    field: 'ratio',
    type: 'quantitative',
    scale: { type: 'log', domain, nice: false },
    axis: { values: ratioTicks(domain), format: '~g', grid: false, title: 'ratio (log scale)' },
  };
  const y = { field: 'subject', type: 'nominal', sort: null, title: null, axis: { labelLimit: LABEL_LIMIT } };
  const below = 'datum.ratio < 1';
  const note = indicativeNote(report);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    background: 'white',
    padding: 12,
    title: { text: note ? [CHART_TITLE, note] : CHART_TITLE, subtitle: [runLine(report), machineLine(report)], anchor: 'start', offset: 12 },
    data: { values },
    facet: {
      row: {
        field: 'comparison',
        // The report's order, which follows the suite's groups; vega-lite's own would be alphabetical.
        sort: [...new Set(values.map((v) => v.comparison))],
        header: { title: null, labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontWeight: 'bold', labelFontSize: 11, labelLimit: 0 },
      },
    },
    spec: {
      width,
      height: { step: 18 },
      layer: [
        {
          mark: { type: 'bar', height: { band: 0.7 } },
          encoding: {
            y,
            x,
            x2: { datum: 1 },
            color: { field: 'verdict', type: 'nominal', scale: { domain: [FASTER, SLOWER], range: ['#2a9d8f', '#e76f51'] }, legend: { title: null, orient: 'top', labelLimit: 0 } },
          },
        },
        { mark: { type: 'rule', strokeDash: [4, 3], color: 'black' }, encoding: { x: { datum: 1 } } },
        {
          // At the bar's far end: left of a bar below 1, right of one above it.
          mark: { type: 'text', fontSize: FONT_SIZE, baseline: 'middle', align: { expr: `${below} ? 'right' : 'left'` }, dx: { expr: `${below} ? ${-LABEL_OFFSET} : ${LABEL_OFFSET}` } },
          encoding: { y, x, text: { field: 'label' } },
        },
      ],
    },
    // Each panel its own images, and an axis under it: a full run's chart is thousands of pixels tall.
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
    config: { view: { stroke: null } },
  };
}

/** The chart as a Vega view, run: its scenegraph holds every mark where it is drawn. */
export async function ratioChartView(report: Report): Promise<ChartView> {
  const vega = (await importModule('vega')) as Vega;
  const vegaLite = (await importModule('vega-lite')) as VegaLite;
  // Vega-Lite's notes on the layout are not the user's concern: errors only.
  const compiled = vegaLite.compile(ratioChartSpec(report), { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  await view.runAsync();
  return view;
}

export async function ratioChart(report: Report): Promise<string> {
  return (await ratioChartView(report)).toSVG();
}
