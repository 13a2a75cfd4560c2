// The ratios as an SVG bar chart, drawn by Vega-Lite: one bar per
// comparison and subject, with a rule at 1 (below it, strata is faster).
import type { Report } from '../model';
import { machineLine } from './table';

// vega and vega-lite are ES modules with top-level await, which require()
// cannot load; this keeps a real import() through TypeScript's CommonJS output.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

interface Vega {
  View: new (runtime: unknown, options: { renderer: string; logLevel?: number }) => { toSVG(): Promise<string> };
  parse(spec: unknown): unknown;
  logger(level: number): unknown;
  Error: number;
}

interface VegaLite {
  compile(spec: unknown, options?: { logger?: unknown }): { spec: unknown };
}

export async function ratioChart(report: Report): Promise<string> {
  const vega = (await importModule('vega')) as Vega;
  const vegaLite = (await importModule('vega-lite')) as VegaLite;
  const values = report.ratios.map((r) => ({ comparison: r.kind, subject: r.subject, ratio: r.ratio }));
  const x = { field: 'ratio', type: 'quantitative', scale: { type: 'log', domain: [0.1, 10], clamp: true }, title: 'ratio (log scale)' };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: "strata's time over the other's (below 1: strata is faster)", subtitle: machineLine(report) },
    background: 'white',
    data: { values },
    // One panel per comparison, one bar per image (or scenario) in it.
    facet: { row: { field: 'comparison', sort: null, header: { title: null, labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontWeight: 'bold' } } },
    spec: {
      width: 420,
      layer: [
        {
          mark: { type: 'bar', height: { band: 0.75 } },
          encoding: {
            y: { field: 'subject', type: 'nominal', sort: null, title: null, axis: { labelLimit: 260 } },
            x,
            color: { condition: { test: 'datum.ratio < 1', value: '#2a9d8f' }, value: '#e76f51' },
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 4, fontSize: 10 },
          encoding: { y: { field: 'subject', type: 'nominal', sort: null }, x, text: { field: 'ratio', format: '.2f' } },
        },
        { mark: { type: 'rule', strokeDash: [4, 3], color: 'black' }, encoding: { x: { datum: 1 } } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
  // Vega-Lite's notes on the layout are not the user's concern: errors only.
  const compiled = vegaLite.compile(spec, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  return view.toSVG();
}
