// `strata bench` refuses what it cannot use before it runs or writes
// anything: an earlier report (--from, --compare, --baseline) that is
// missing, not JSON, not a report or in another format, and flags it cannot
// take. Each is one line on stderr, exit code 2 for bad usage and 1 for a
// file that holds no report; the working directory, --out and --work stay
// as they were. A report it can read is written again, and bench says where.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPORT_FORMAT } from '../../native-bench/model';
import { packageRoot } from '../../src/package-root';
import { assertEndOfRun } from '../support/bench-output';
import { assertFailure, literal, runStrata } from '../support/strata-cli';
import { tearDown } from '../support/teardown';

/** A report kept in the repository; it has ratios, so a chart (bench.svg, and in bench.html) too. */
const KEPT = path.join(packageRoot(), 'native-bench', 'results', 'zstd-3rep', 'bench.json');
const FILES = ['bench.html', 'bench.json', 'bench.md', 'bench.svg', 'bench.txt', 'headline.md'];

describe('strata bench: bad usage and unusable reports', { timeout: 120_000 }, () => {
  let workDir = '';
  /** The directory bench runs in: its default --out, bench-results/, would appear here. */
  let cwd = '';
  let out = '';
  let work = '';

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-bench-usage-'));
    cwd = path.join(workDir, 'cwd');
    await fs.promises.mkdir(cwd);
    out = path.join(workDir, 'out');
    work = path.join(workDir, 'work');
  });

  after(() => tearDown(workDir, []));

  /** Fails as `code` says, with one line matching `message`, and leaves nothing behind. */
  async function refused(args: string[], code: number, message: RegExp): Promise<void> {
    assertFailure(await runStrata(['bench', ...args], { cwd, timeout: 60_000 }), code, message, `strata bench ${args.join(' ')}`);
    assert.deepEqual(fs.readdirSync(cwd), [], `strata bench ${args.join(' ')} wrote into its working directory`);
    assert.equal(fs.existsSync(out), false, `strata bench ${args.join(' ')} made --out`);
    assert.equal(fs.existsSync(work), false, `strata bench ${args.join(' ')} made --work`);
  }

  const file = (name: string, content: string) => {
    const written = path.join(workDir, name);
    fs.writeFileSync(written, content);
    return written;
  };

  it('--from: a missing path or a directory is bad usage; no JSON, no report, or another format is a failure', async () => {
    await refused(['--from', path.join(workDir, 'missing.json')], 2, /^strata: --from \S+missing\.json: no such file$/);
    await refused(['--from', workDir, '--out', out], 2, /^strata: --from \S+: a directory, not a report$/);
    await refused(['--from', file('notes.json', 'not json\n'), '--out', out], 1, /^strata: --from \S+notes\.json: not JSON \(.*\); give the bench\.json of an earlier strata bench$/);
    const other = file('some-other.json', JSON.stringify({ name: 'some-other', version: '1.0.0', dependencies: {} }));
    await refused(['--from', other], 1, /^strata: --from \S+some-other\.json: not a strata bench report \(report\.startedAt is missing\)$/);
    await refused(['--from', other, '--out', out], 1, /not a strata bench report/);
    const next = file('next.json', JSON.stringify({ ...JSON.parse(fs.readFileSync(KEPT, 'utf8')), format: REPORT_FORMAT + 1 }));
    await refused(['--from', next, '--out', out], 1, /^strata: --from \S+next\.json: a report in format \d+, from another version of strata; this strata bench reads format \d+ \(run it again to get one\)$/);
  });

  it('--compare takes two reports and no run option; --baseline goes with a run; each report is read as --from reads one', async () => {
    const notes = file('notes.json', 'not json\n');
    await refused(['--compare', KEPT, '--out', out], 2, /^strata: --compare takes two reports, A\.json then B\.json, not 1$/);
    await refused(['--compare', KEPT, KEPT, KEPT, '--out', out], 2, /^strata: --compare takes two reports, A\.json then B\.json, not 3$/);
    for (const flag of [['--quick'], ['--work', work], ['--groups', 'content'], ['--repetitions', '3'], ['--from', KEPT], ['--baseline', KEPT]]) {
      await refused(['--compare', KEPT, KEPT, ...flag, '--out', out], 2, new RegExp(`^strata: --compare runs nothing, so it takes only --out and --json, not ${flag[0]}$`));
    }
    await refused(['--compare', path.join(workDir, 'missing.json'), KEPT, '--out', out], 2, /^strata: --compare \S+missing\.json: no such file$/);
    await refused(['--compare', KEPT, notes, '--out', out], 1, /^strata: --compare \S+notes\.json: not JSON \(.*\); give the bench\.json of an earlier strata bench$/);
    const at = ['--quick', '--groups', 'content', '--out', out, '--work', work];
    await refused(['--baseline', path.join(workDir, 'missing.json'), ...at], 2, /^strata: --baseline \S+missing\.json: no such file$/);
    await refused(['--baseline', notes, ...at], 1, /^strata: --baseline \S+notes\.json: not JSON/);
    await refused(['--baseline', KEPT, '--from', KEPT, '--out', out], 2, /^strata: --baseline compares a run with an earlier report, and --from runs nothing \(for two reports: --compare A\.json B\.json\)$/);
  });

  it('flags it cannot take are bad usage before anything runs', async () => {
    const at = ['--out', out, '--work', work];
    await refused(['--repetitions', '0', ...at], 2, /^strata: --repetitions must be a positive integer, not "0"$/);
    await refused(['--repetitions', 'x', ...at], 2, /^strata: --repetitions must be a positive integer, not "x"$/);
    await refused(['--images', 'nosuch', ...at], 2, /^strata: --images: unknown "nosuch" \(choose from .*, or all\)$/);
    await refused(['--compressions', 'foo', ...at], 2, /^strata: --compressions: unknown "foo" \(choose from gzip, zstd, none, or all\)$/);
    await refused(['--groups', 'foo', ...at], 2, /^strata: --groups: unknown "foo" \(choose from unpack, containerd, decompress, snapshots, content, or all\)$/);
    await refused(['--groups', '', ...at], 2, /^strata: --groups: empty \(choose from /);
    await refused(['--registry', 'http://127.0.0.1:5000', ...at], 2, /^strata: --registry http:\/\/127\.0\.0\.1:5000: give HOST\[:PORT\]\[\/PATH\], with no scheme \(--plain-http for a registry over http\)$/);
    await refused(['--snapshotter', 'overlayfs,zfs', ...at], 2, /^strata: --snapshotter: unknown "zfs" \(choose from overlayfs, native, btrfs, strata, or any with --containerd-address\)$/);
  });

  it('--containerd that is missing, a directory, not executable, or has no ctr beside it is bad usage before anything runs', async () => {
    const at = ['--groups', 'containerd', '--out', out, '--work', work];
    const bin = path.join(workDir, 'bin');
    fs.mkdirSync(bin);
    const containerd = path.join(bin, 'containerd');
    await refused(['--containerd', containerd, ...at], 2, new RegExp(`^strata: --containerd ${literal(containerd)}: no such file$`));
    await refused(['--containerd', bin, ...at], 2, new RegExp(`^strata: --containerd ${literal(bin)}: a directory, not a program$`));
    fs.writeFileSync(containerd, '#!/bin/sh\n', { mode: 0o644 });
    await refused(['--containerd', containerd, ...at], 2, new RegExp(`^strata: --containerd ${literal(containerd)}: not executable$`));
    fs.chmodSync(containerd, 0o755);
    await refused(['--containerd', containerd, ...at], 2, new RegExp(`^strata: --containerd ${literal(containerd)}: ctr beside it \\(${literal(path.join(bin, 'ctr'))}\\): no such file$`));
  });

  it('--containerd-address with --containerd, or that is no socket, is bad usage before anything runs', async () => {
    const at = ['--groups', 'containerd', '--out', out, '--work', work];
    const notSocket = file('not-a-socket', '');
    await refused(['--containerd-address', notSocket, '--containerd', '/usr/bin/containerd', ...at], 2, /^strata: --containerd and --containerd-address: one or the other \(--containerd starts that containerd, --containerd-address uses one already running\)$/);
    await refused(['--containerd-address', notSocket, ...at], 2, new RegExp(`^strata: --containerd-address ${literal(notSocket)}: not a socket$`));
    await refused(['--containerd-address', path.join(workDir, 'missing.sock'), ...at], 2, /^strata: --containerd-address \S+missing\.sock: no such file$/);
  });

  it('--snapshotter btrfs on a machine without mkfs.btrfs fails at once, in one line', async () => {
    // /usr/sbin, where btrfs-progs puts mkfs.btrfs, left off PATH.
    const run = await runStrata(['bench', '--groups', 'containerd', '--snapshotter', 'btrfs', '--out', out, '--work', work], { cwd, env: { ...process.env, PATH: '/usr/local/bin:/usr/bin:/bin' }, timeout: 60_000 });
    assertFailure(run, 1, /^strata: --snapshotter btrfs: mkfs\.btrfs is not installed \(Debian: apt-get install btrfs-progs\)$/, 'strata bench --snapshotter btrfs');
    assert.equal(fs.existsSync(out), false, 'strata bench --snapshotter btrfs made --out');
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('--out that is a file, and --work that cannot be written, are bad usage before anything runs', async () => {
    const report = file('report.txt', 'a file\n');
    await refused(['--groups', 'snapshots', '--out', report, '--work', work], 2, new RegExp(`^strata: --out ${literal(report)} is not a directory$`));
    await refused(['--from', KEPT, '--out', path.join(report, 'out')], 2, new RegExp(`^strata: --out ${literal(`${report}/out`)}: ${literal(report)} is not a directory$`));
    await refused(['--groups', 'snapshots', '--out', out, '--work', path.join(report, 'work')], 2, new RegExp(`^strata: --work ${literal(`${report}/work`)}: ${literal(report)} is not a directory$`));
    const readOnly = path.join(workDir, 'read-only');
    fs.mkdirSync(readOnly);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly]);
    await refused(['--groups', 'snapshots', '--out', out, '--work', path.join(readOnly, 'work')], 2, new RegExp(`^strata: --work ${literal(`${readOnly}/work`)}: ${literal(readOnly)} is on a read-only file system$`));
  });

  it('--work or --out that cannot be made is bad usage at once, in one line', async () => {
    for (const flag of ['--work', '--out']) {
      // Node's recursive mkdir spun on a path under /proc for ever; the run would be killed.
      await refused(['--quick', '--work', work, '--out', out, flag, '/proc/strata-e2e/dir'], 2, new RegExp(`^strata: ${flag} /proc/strata-e2e/dir: mkdir /proc/strata-e2e: no such file or directory$`));
    }
  });

  it('--from a report it can read writes every file again, and says where', async () => {
    const tables = await runStrata(['bench', '--from', KEPT, '--out', out], { cwd });
    assert.equal(tables.code, 0, tables.stderr);
    assert.equal(tables.stderr, '');
    assert.deepEqual(fs.readdirSync(out).sort(), FILES);
    // The tables, then what they show and where the files are; no work directory, as nothing ran.
    const tablesText = fs.readFileSync(path.join(out, 'bench.txt'), 'utf8');
    assert.ok(tables.stdout.startsWith(`${tablesText}\n`), tables.stdout);
    assertEndOfRun(tables.stdout.slice(tablesText.length + 1), out);

    // With --json stdout is the report alone, and the note goes to stderr; the default --out is relative to where bench runs.
    const json = await runStrata(['bench', '--from', KEPT, '--json'], { cwd });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), JSON.parse(fs.readFileSync(path.join(cwd, 'bench-results', 'bench.json'), 'utf8')));
    assertEndOfRun(json.stderr, path.join(cwd, 'bench-results'));
    assert.deepEqual(fs.readdirSync(path.join(cwd, 'bench-results')).sort(), FILES);
  });
});
