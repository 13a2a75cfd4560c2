// The report as one self-contained HTML page, to open or pass around: what
// the run and the machine were, the chart inline, and every table. Nothing
// in it is fetched (no script, font, style sheet or image from elsewhere),
// and its Content-Security-Policy forbids any fetch, so that it opens the
// same anywhere, offline. Every string from the report is escaped.
import type { Report } from '../model';
import { durationText, indicativeNote, percent, runLine, runMode, stackLines, startedAtText } from './run-details';
import { sections, type Section } from './table';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 2em auto; max-width: 80em; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 2em; }
.indicative { border-left: 4px solid #e76f51; background: #fdf0eb; padding: 0.5em 0.8em; font-weight: bold; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
table.details th { background: none; font-weight: normal; color: #555; }
figure { margin: 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
`;

const cell = (tag: 'td' | 'th', text: string, numeric: boolean) => `<${tag}${numeric ? ' class="number"' : ''}>${escapeHtml(text)}</${tag}>`;

/** One of the report's tables; as in Markdown, columns after the first two hold figures. */
function table(section: Section): string {
  const row = (cells: string[], tag: 'td' | 'th') => `<tr>${cells.map((c, i) => cell(tag, c, i >= 2)).join('')}</tr>`;
  return [
    `<h2>${escapeHtml(section.title)}</h2>`,
    '<table>',
    `<thead>${row(section.header, 'th')}</thead>`,
    `<tbody>${section.rows.map((r) => row(r, 'td')).join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

function optionText(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(String).join(', ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** When, how, and on what the run ran, then every option it ran with. */
function details(report: Report): string {
  const { repetitions, scale, quick } = runMode(report);
  const m = report.machine;
  const rows: [string, string][] = [
    ['started', startedAtText(report)],
    ['duration', durationText(report.seconds)],
    ['repetitions', repetitions === undefined ? '' : String(repetitions)],
    ['mode', quick ? `quick (images at ${percent(scale)} scale)` : 'full'],
    ['containerd', m.containerd],
    ...stackLines(report).map((line): [string, string] => ['stack', line]),
    ['filesystem', m.filesystem],
    ['machine', `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB (${m.host})`],
    ['kernel', m.kernel],
    ['node', m.node],
    ['go', m.go],
    ...Object.entries(report.options).map(([name, value]): [string, string] => [`option ${name}`, optionText(value)]),
  ];
  return ['<table class="details">', ...rows.map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`), '</table>'].join('\n');
}

/** The page; `chart` is the ratio chart's SVG, which Vega has escaped, when the report has ratios. */
export function htmlReport(report: Report, chart: string | undefined): string {
  const note = indicativeNote(report);
  const title = `strata bench, ${startedAtText(report)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>strata bench</h1>
<p>${escapeHtml(runLine(report))}</p>
${note ? `<p class="indicative">${escapeHtml(note)}</p>\n` : ''}<h2>Run and machine</h2>
${details(report)}
${chart ? `<h2>Chart of the ratios</h2>\n<figure>${chart}</figure>\n` : ''}${sections(report).map(table).join('\n')}
</body>
</html>
`;
}
