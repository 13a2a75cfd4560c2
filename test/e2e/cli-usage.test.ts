// Every command and every flag, given what a person mistypes: the value
// missing, empty, out of range or of the wrong kind. Each gets the
// documented exit code (2 for bad usage, 1 for what is not there) and one
// line on stderr naming what is wrong, with no stack and nothing on stdout,
// and leaves its working directory as it was. Then what every command
// owes: --help, --json, and strata --version.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../src/package-root';
import { assertFailure, runStrata } from '../support/strata-cli';
import { tearDown } from '../support/teardown';

const NO_FILE = '/nonexistent/strata-e2e';
const DIGEST = `sha256:${'0'.repeat(64)}`;

/** args, exit code, the one line. */
type Case = [string[], number, RegExp];

const missing = (flag: string) => new RegExp(`^strata: option '${flag} <[^>]+>' argument missing$`);
const empty = (flag: string) => new RegExp(`^strata: option '${flag} <[^>]+>' argument '' is invalid\\. It must not be empty\\.$`);
const notOneOf = (flag: string, value: string) => new RegExp(`^strata: option '${flag} <[^>]+>' argument '${value}' is invalid\\. Allowed choices are `);

const CASES: Case[] = [
  [[], 2, /^strata: strata needs a command: serve, bench, inspect, gc or config \(strata --help\)$/],
  [['nosuch'], 2, /^strata: unknown command "nosuch": serve, bench, inspect, gc or config/],
  [['--nosuch'], 2, /^strata: unknown option '--nosuch'$/],

  ...['--root', '--address', '--config'].flatMap((flag): Case[] => [
    [['serve', flag], 2, missing(flag)],
    [['serve', flag, ''], 2, empty(flag)],
  ]),
  [['serve', '--root', 'relative/dir'], 2, /^strata: --root must be an absolute path other than \/, not "relative\/dir"$/],
  [['serve', '--root', '/'], 2, /^strata: --root must be an absolute path other than \/, not "\/"$/],
  [['serve', '--address', 'relative.sock'], 2, /^strata: --address must be an absolute unix socket path of at most 98 bytes, not "relative\.sock"$/],
  [['serve', '--address', `/tmp/${'s'.repeat(120)}.sock`], 2, /^strata: --address must be an absolute unix socket path of at most 98 bytes/],
  [['serve', '--config', `${NO_FILE}.toml`], 2, /^strata: config \/nonexistent\/strata-e2e\.toml: no such file or directory$/],
  [['serve', '--config', '/tmp'], 2, /^strata: config \/tmp: illegal operation on a directory$/],
  ...[['--backend', 'zfs'], ['--log-level', 'loud'], ['--gc-mode', 'sometimes']].flatMap(([flag, bad]): Case[] => [
    [['serve', flag], 2, missing(flag)],
    [['serve', flag, ''], 2, notOneOf(flag, '')],
    [['serve', flag, bad], 2, notOneOf(flag, bad)],
  ]),
  [['serve', 'extra'], 2, /^strata: too many arguments for 'serve'\. Expected 0 arguments but got 1\.$/],

  [['config'], 2, /^strata: strata config needs a command: check or default \(strata config --help\)$/],
  [['config', 'nosuch'], 2, /^strata: unknown command "nosuch": check or default/],
  [['config', 'check'], 2, /^strata: missing required argument 'file'$/],
  [['config', 'check', ''], 2, /^strata: command-argument value '' is invalid for argument 'file'\. It must not be empty\.$/],
  [['config', 'check', `${NO_FILE}.toml`], 2, /^strata: config \/nonexistent\/strata-e2e\.toml: no such file or directory$/],
  [['config', 'default', 'extra'], 2, /^strata: too many arguments for 'default'/],

  [['gc', '--address'], 2, missing('--address')],
  [['gc', '--address', ''], 2, empty('--address')],
  [['gc', '--address', `${NO_FILE}.sock`], 1, /^strata: no strata socket at \/nonexistent\/strata-e2e\.sock: start strata \(strata serve\), or give its socket with --address$/],
  [['gc', 'extra'], 2, /^strata: too many arguments for 'gc'/],

  [['inspect'], 2, /^strata: an IMAGE to inspect is required/],
  [['inspect', ''], 2, /^strata: an IMAGE to inspect is required/],
  [['inspect', 'nosuch:thing'], 1, /^strata: nosuch:thing: no such file, and not a transport:reference/],
  [['inspect', `oci-archive:${NO_FILE}.tar`], 1, /^strata: oci-archive:\/nonexistent\/strata-e2e\.tar does not exist$/],
  ...['--platform', '--address', '--containerd-address', '--namespace'].flatMap((flag): Case[] => [
    [['inspect', flag], 2, missing(flag)],
    [['inspect', flag, '', `strata:${DIGEST}`], 2, empty(flag)],
  ]),
  [['inspect', '--platform', 'linux/amd64/v1/x', `oci-archive:${NO_FILE}.tar`], 2, /^strata: --platform: platform "linux\/amd64\/v1\/x" is not os\/arch\[\/variant\]$/],
  [['inspect', '--layer'], 2, missing('--layer')],
  [['inspect', '--layer', '0', `oci-archive:${NO_FILE}.tar`], 2, /^strata: --layer goes with --files$/],
  [['inspect', '--files', '--layer', 'x', `oci-archive:${NO_FILE}.tar`], 2, /^strata: --layer x: not a layer number/],
  [['inspect', '--files', '--layer', '1.5', `oci-archive:${NO_FILE}.tar`], 2, /^strata: --layer 1\.5: not a layer number/],
  [['inspect', '--diff'], 2, missing('--diff')],
  [['inspect', '--diff', '0', '1'], 2, /^strata: --diff 0 1: layer numbers need an IMAGE/],

  ...['--out', '--work', '--from', '--baseline', '--compare', '--image', '--repetitions', '--images', '--compressions', '--groups', '--containerd'].map((flag): Case => [['bench', flag], 2, missing(flag)]),
  ...['--out', '--work', '--from', '--baseline', '--compare', '--image', '--containerd'].map((flag): Case => [['bench', flag, ''], 2, empty(flag)]),
  ...['', '0', '-1', '1.5', 'x', '1e1'].map((value): Case => [['bench', '--repetitions', value], 2, new RegExp(`^strata: --repetitions must be a positive integer, not "${value.replace('.', '\\.')}"$`)]),
  [['bench', '--images', 'nosuch'], 2, /^strata: --images: unknown "nosuch" \(choose from /],
  [['bench', '--images', ''], 2, /^strata: --images: empty \(choose from /],
  [['bench', '--compressions', 'lz4'], 2, /^strata: --compressions: unknown "lz4" \(choose from gzip, zstd, none, or all\)$/],
  [['bench', '--compressions', ','], 2, /^strata: --compressions: empty/],
  [['bench', '--groups', 'unpack,nosuch'], 2, /^strata: --groups: unknown "nosuch"/],
  [['bench', '--groups', 'all,unpack'], 2, /^strata: --groups: all stands alone \(it is unpack, containerd, decompress, snapshots, content\)$/],
  [['bench', '--containerd', `${NO_FILE}/containerd`], 2, /^strata: --containerd \/nonexistent\/strata-e2e\/containerd: no such file$/],
  [['bench', '--from', `${NO_FILE}.json`], 2, /^strata: --from \/nonexistent\/strata-e2e\.json: no such file$/],
  [['bench', '--out', '/proc/strata-e2e/out'], 2, /^strata: --out \/proc\/strata-e2e\/out: mkdir \/proc\/strata-e2e: no such file or directory$/],
  [['bench', 'extra'], 2, /^strata: too many arguments for 'bench'/],
];

/** Every command, as its words. */
const COMMANDS = [['serve'], ['bench'], ['inspect'], ['gc'], ['config', 'check'], ['config', 'default']];

describe('the CLI, given bad input', { timeout: 300_000 }, () => {
  let workDir = '';
  let cwd = '';

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-cli-'));
    cwd = path.join(workDir, 'cwd');
    await fs.promises.mkdir(cwd);
  });

  after(() => tearDown(workDir, []));

  for (const [args, code, message] of CASES) {
    const command = `strata ${args.map((a) => (a === '' ? "''" : a)).join(' ')}`;
    it(`${command}: exit ${code}, one line`, async () => {
      // No server of strata's may start, and nothing may be left: a spin or a serve is killed.
      const run = await runStrata(args, { cwd, timeout: 30_000 });
      assertFailure(run, code, message, command);
      assert.deepEqual(fs.readdirSync(cwd), [], `${command} left files in its working directory`);
    });
  }

  for (const words of COMMANDS) {
    it(`strata ${words.join(' ')} --help: exit 0, usage and examples on stdout, and a --json flag`, async () => {
      const run = await runStrata([...words, '--help'], { cwd });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      assert.match(run.stdout, new RegExp(`^Usage: strata ${words.join(' ')} `));
      assert.match(run.stdout, /^ {2}--json\b/m);
      assert.match(run.stdout, /^Examples:$/m);
    });
  }

  it('strata --version: the package version, exit 0', async () => {
    const run = await runStrata(['--version']);
    assert.deepEqual(run, { code: 0, stdout: `${(JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version}\n`, stderr: '' });
  });
});
