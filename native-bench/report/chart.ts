// The ratios as an SVG bar chart, drawn by Vega-Lite: one bar per
// comparison and subject, with a rule at 1 (below it, strata is faster).
import type { Report } from '../model';
import { machineLine } from './table';

// vega and vega-lite are ES modules with top-level await, which require()
// cannot load; this keeps a real import() through TypeScript's CommonJS output.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

interface Vega {
  View: new (runtime: unknown, options: { renderer: string }) => { toSVG(): Promise<string> };
  parse(spec: unknown): unknown;
}

interface VegaLite {
  compile(spec: unknown): { spec: unknown };
}

export async function ratioChart(report: Report): Promise<string> {
  const vega = (await importModule('vega')) as Vega;
  const vegaLite = (await importModule('vega-lite')) as VegaLite;
  const values = report.ratios.map((r) => ({ comparison: r.kind, subject: r.subject, ratio: r.ratio, label: `${r.kind} — ${r.subject}` }));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: "strata's time over the other's (below 1: strata is faster)", subtitle: machineLine(report) },
    width: 560,
    background: 'white',
    layer: [
      {
        data: { values },
        mark: { type: 'bar', height: { band: 0.8 } },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 420 } },
          x: { field: 'ratio', type: 'quantitative', scale: { type: 'log', domain: [0.1, 10], clamp: true }, title: 'ratio (log scale)' },
          color: { field: 'comparison', type: 'nominal', legend: null },
          tooltip: [{ field: 'ratio', format: '.2f' }],
        },
      },
      { data: { values: [{ one: 1 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: 'black' }, encoding: { x: { field: 'one', type: 'quantitative' } } },
    ],
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
