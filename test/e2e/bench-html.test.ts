// bench.html in a real browser: Debian's Chromium, headless and with every
// fetch refused, opens the page `strata bench` writes with no console error
// and no request, even when the report's strings hold markup, and draws it
// (its screenshot is not blank). The check is checked too: a page with a
// script error, one that fetches, and a blank one each fail it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../src/package-root';
import { visitPage } from '../support/browser';
import { decodePng, shareNotBackground } from '../support/png';
import { runStrata } from '../support/strata-cli';
import { tearDown } from '../support/teardown';

const RESULTS = path.join(packageRoot(), 'native-bench', 'results');
/** The share of a screenshot not of its background above which a page counts as drawn: a report's is 5 % and more, one line of text's 0.02 %. */
const DRAWN = 0.01;

describe('strata bench: bench.html in a browser', { timeout: 240_000 }, () => {
  let workDir = '';

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-bench-html-'));
  });

  after(() => tearDown(workDir, []));

  /** Writes the page of `report` with `strata bench --from`, and opens it. */
  async function opened(name: string, report: unknown) {
    const from = path.join(workDir, `${name}.json`);
    fs.writeFileSync(from, JSON.stringify(report));
    const out = path.join(workDir, name);
    const run = await runStrata(['bench', '--from', from, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    return visitPage(path.join(out, 'bench.html'));
  }

  const kept = (run: string) => JSON.parse(fs.readFileSync(path.join(RESULTS, run, 'bench.json'), 'utf8'));

  it('the page of a report opens with no error and no request, and is drawn', async () => {
    const visit = await opened('disk-run', kept('disk-run'));
    assert.deepEqual(visit.errors, []);
    assert.deepEqual(visit.requests, []);
    const picture = decodePng(visit.screenshot);
    assert.ok(shareNotBackground(picture) > DRAWN, `blank: ${shareNotBackground(picture)}`);
  });

  it('strings of the report that hold markup are shown, not run: no error, no request', async () => {
    const report = kept('first-pulls-1.7.13');
    const markup = `<img src="http://127.0.0.1:9/x.png" onerror="console.error('ran')"><script>console.error('ran')</script>`;
    report.machine.cpu = markup;
    report.options.workDir = markup;
    for (const r of report.ratios) r.subject = markup;
    for (const m of report.measurements) m.arm = markup;
    const visit = await opened('markup', report);
    assert.deepEqual(visit.errors, []);
    assert.deepEqual(visit.requests, []);
  });

  it('the check fails a page with a script error, one that fetches, and a blank one', async () => {
    const page = (name: string, body: string) => {
      const file = path.join(workDir, `${name}.html`);
      fs.writeFileSync(file, `<!doctype html><html><head><meta charset="utf-8"><title>${name}</title></head><body>${body}</body></html>`);
      return file;
    };
    const broken = await visitPage(page('broken', '<p>strata bench</p><script>drawChart();</script>'));
    assert.ok(broken.errors.some((e) => /uncaught: ReferenceError: drawChart is not defined/.test(e)), broken.errors.join('\n'));
    const fetching = await visitPage(page('fetching', '<p>strata bench</p><img src="http://127.0.0.1:9/chart.png">'));
    assert.deepEqual(fetching.requests, ['http://127.0.0.1:9/chart.png']);
    assert.ok(fetching.errors.some((e) => e.includes('http://127.0.0.1:9/chart.png')), fetching.errors.join('\n'));
    const blank = decodePng((await visitPage(page('blank', ''))).screenshot);
    assert.ok(shareNotBackground(blank) < DRAWN);
  });
});
