#!/usr/bin/env node
// strata's command line: one program, one subcommand per job. Success exits
// 0, a failure 1 and bad usage 2, each failure with one line on stderr.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS, keyChoices } from './config/config';
import { resolveConfig, type ConfigFlags } from './config/config-file';
import { createServerLog } from './log';
import { packageVersion } from './package-root';
import type { BenchFlags } from './commands/bench';
import type { GcFlags } from './commands/gc';
import type { InspectFlags } from './commands/inspect';
import { UsageError } from './usage-error';

/** A value that must not be empty: an empty one is almost always a shell variable that was never set. */
function nonEmpty(value: string): string {
  if (value === '') throw new InvalidArgumentError('It must not be empty.');
  return value;
}

const collect = (value: string, previous: string[] = []) => [...previous, nonEmpty(value)];

/** The long flags given on the command line, not those filled in from a default. */
const givenFlags = (command: Command) => command.options.filter((o) => command.getOptionValueSource(o.attributeName()) === 'cli').map((o) => o.long ?? o.flags);

/** A command that only groups others, run bare or with a word none of them is: one line, exit 2. */
function needsCommand(group: Command): (word?: string) => never {
  return (word) => {
    const names = group.commands.map((c) => c.name());
    const choices = `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
    const where = group.parent ? `${group.parent.name()} ${group.name()}` : group.name();
    throw new UsageError(`${word === undefined ? `${where} needs a command` : `unknown command ${JSON.stringify(word)}`}: ${choices} (${where} --help)`);
  };
}

/** The "Examples:" section of a command's --help. */
function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => (line.startsWith('#') ? `  ${line}` : `  $ ${line}`)).join('\n')}\n`;
}

const program = new Command()
  .name('strata')
  .description('A containerd storage plugin: Snapshots, Content and Diff services on one unix socket')
  .version(packageVersion(), '-V, --version', "print strata's version")
  .exitOverride()
  // commander's own errors as strata's: one line, named for strata.
  .configureOutput({ outputError: (message, write) => write(`${message.split('\n')[0].replace(/^error: /, 'strata: ')}\n`) })
  .addHelpText(
    'after',
    examples(
      'strata serve --config /etc/strata/config.toml',
      'strata config check /etc/strata/config.toml',
      'strata inspect oci-archive:image.tar',
      'strata gc --dry-run',
      'strata bench --quick',
      '# every command: strata <command> --help',
    ),
  );

program
  .command('serve')
  .description('serve the Snapshots, Content and Diff services on a unix socket')
  .option('--root <dir>', `directory holding all state (default ${DEFAULTS.root})`, nonEmpty)
  .option('--address <socket>', `unix socket to listen on (default ${DEFAULTS.address})`, nonEmpty)
  .addOption(new Option('--backend <name>', `snapshot backend (default ${DEFAULTS.backend})`).choices(keyChoices('backend')))
  .option('--config <file>', 'TOML configuration file; flags override it', nonEmpty)
  .addOption(new Option('--log-level <level>', 'log level').choices(keyChoices('log.level')))
  .addOption(new Option('--gc-mode <mode>', `who deletes: containerd, or strata by containerd's gc labels (default ${DEFAULTS.gcMode})`).choices(keyChoices('gc.mode')))
  .option('--json', 'log JSON lines, whatever log.format says')
  .addHelpText('after', examples(
      '# the default config, or /etc/strata/config.toml when it exists',
      'strata serve',
      'strata serve --config /etc/strata/config.toml',
      'strata serve --root /var/lib/strata --address /run/strata/strata.sock --backend native',
      '# SIGTERM stops it (in-flight calls get shutdown_grace); SIGHUP reopens log.file',
    ))
  .action(async (flags: ConfigFlags) => {
    const config = resolveConfig(flags);
    // Each subcommand loads only what it needs: inspect has no use for SQLite or the chart renderer.
    const { serve } = await import('./commands/serve');
    await serve(config, await createServerLog({ level: config.logLevel, format: config.logFormat, file: config.logFile }));
  });

program
  .command('bench')
  .description('benchmark layer unpacking, snapshot operations and content throughput: strata against containerd')
  .option('--quick', 'a small subset (two images at 2 % scale, one repetition): 30 to 45 seconds on 2 cores')
  .option('--json', 'print the report as JSON instead of tables')
  .option('--out <dir>', 'where bench.json, bench.txt, bench.md, headline.md, bench.svg and bench.html go', nonEmpty, 'bench-results')
  .option('--work <dir>', 'inputs, servers and scratch space (needs a few GB for a full run)', nonEmpty, '/var/tmp/strata-bench')
  .option('--repetitions <n>', 'interleaved repetitions of every arm (default 3, 1 with --quick)')
  .option('--images <list>', 'generated images, comma-separated, or all')
  .addOption(new Option('--image <reference>', 'also benchmark this image (oci-archive:, oci:, docker://, strata:); repeatable').argParser(collect).default([], 'none'))
  .option('--compressions <list>', 'gzip, zstd, none, comma-separated, or all')
  .option('--groups <list>', 'unpack, containerd, decompress, snapshots, content, comma-separated, or all')
  .option('--drop-caches', 'drop the page cache before every sample (root only)')
  .option('--plain-http', 'reach docker:// images, and --registry, over plain HTTP')
  .option('--containerd <binary>', "the containerd to run, with ctr beside it (default: containerd on PATH); from 1.7.4 strata is its differ too", nonEmpty)
  .addOption(new Option('--snapshotter <names>', "the containerd arms' snapshotters, comma-separated or repeated: overlayfs, native, btrfs, strata, or with --containerd-address any it has").argParser(collect).default([], 'overlayfs,strata'))
  .option('--containerd-address <socket>', "run the containerd arms on this containerd, already running, in a namespace of the bench's own, removed at the end", nonEmpty)
  .option('--registry <host[:port][/path]>', "push the containerd arms' images to this registry, under strata-bench-ID, and delete them at the end", nonEmpty)
  .option('--from <bench.json>', 'run nothing: write the tables, chart and page of an earlier report', nonEmpty)
  .option('--baseline <old.json>', 'after the run, compare it with this earlier report, figure by figure (compare.json, .txt, .md)', nonEmpty)
  .option('--compare <a.json b.json...>', 'run nothing: compare report B with report A, figure by figure (compare.json, .txt, .md)', collect)
  .addHelpText('after', examples(
      'strata bench --quick',
      'strata bench --groups unpack --images distro-rootfs --compressions zstd,gzip --repetitions 3',
      'strata bench --image docker://127.0.0.1:5000/app:v1 --plain-http --groups unpack',
      'strata bench --groups containerd --containerd /opt/containerd-1.7.13/bin/containerd',
      'strata bench --groups containerd --snapshotter overlayfs,native,btrfs,strata',
      'strata bench --from bench-results/bench.json --out report',
      'strata bench --quick --baseline bench-results/bench.json --out after',
      'strata bench --compare bench-results/bench.json after/bench.json --out comparison',
    ))
  .action(async (flags: BenchFlags, command: Command) => {
    const { bench } = await import('./commands/bench');
    await bench(flags, givenFlags(command));
  });

program
  .command('inspect')
  .description("what is inside an image: config, layers, what each adds, removes and wastes, from an archive, a layout, a registry or strata's store")
  .argument('[image]', 'oci-archive:FILE[:REF], oci:DIR[:REF], docker://HOST/REPO:TAG|@DIGEST, strata:DIGEST|NAME, or a file or directory')
  .option('--json', 'print one JSON document (schema in docs/inspect.md)')
  .option('--platform <os/arch[/variant]>', "the image to pick from a multi-platform index (default: this host's)", nonEmpty)
  .option('--address <socket>', "strata's socket, for strata: images", nonEmpty, DEFAULTS.address)
  .option('--containerd-address <socket>', "containerd's socket, to resolve a strata: image name", nonEmpty)
  .option('--namespace <name>', "containerd's namespace for the name", nonEmpty, 'default')
  .option('--plain-http', 'reach docker:// registries over plain HTTP')
  .option('--files', "list the layers' entries (mode, owner, size, path, link target, whiteouts)")
  .option('--layer <n>', 'with --files: only this layer (0 is the lowest)')
  .option('--tree', 'list the merged filesystem the layers make')
  .option('--diff <a b...>', 'compare, path by path, two layers of IMAGE (--diff A B IMAGE, by number) or two images (--diff IMAGE1 IMAGE2)')
  .addHelpText('after', examples(
      'strata inspect oci-archive:image.tar',
      'strata inspect docker://registry.example/app:v1 --files --layer 0',
      'strata inspect oci:./layout --tree --json',
      'strata inspect strata:docker.io/library/busybox:latest --containerd-address /run/containerd/containerd.sock',
      'strata inspect --diff 0 1 oci:./layout',
      'strata inspect --diff oci-archive:v1.tar oci-archive:v2.tar',
    ))
  .action(async (image: string | undefined, flags: InspectFlags) => {
    const { inspect } = await import('./commands/inspect');
    await inspect(image, flags);
  });

program
  .command('gc')
  .description("collect garbage now, by containerd's gc labels, in a strata serving with --gc-mode labels")
  .option('--address <socket>', "strata's socket", nonEmpty, DEFAULTS.address)
  .option('--dry-run', 'list what would be removed, and remove nothing')
  .option('--json', 'print the report as JSON')
  .addHelpText('after', examples('strata gc --dry-run', 'strata gc --json --address /run/strata/strata.sock'))
  .action(async (flags: GcFlags) => {
    const { gc } = await import('./commands/gc');
    await gc(flags);
  });

const config = program.command('config').description("check a config file, or print the default one").argument('[command]');

config
  .command('check')
  .description('validate a TOML config file without starting; exits 2 naming the line and key of the first mistake')
  .argument('<file>', 'the config file', nonEmpty)
  .option('--json', 'print the settings it gives, defaults included, as JSON')
  .addHelpText('after', examples('strata config check /etc/strata/config.toml', 'strata config check --json strata.toml'))
  .action(async (file: string, flags: { json?: boolean }) => {
    const { checkConfig } = await import('./commands/config');
    checkConfig(file, flags);
  });

config
  .command('default')
  .description('print the default config, every key commented (config/strata.toml)')
  .option('--json', 'print the default settings as JSON')
  .addHelpText('after', examples('strata config default > /etc/strata/config.toml'))
  .action(async (flags: { json?: boolean }) => {
    const { printDefaultConfig } = await import('./commands/config');
    printDefaultConfig(flags);
  });

program.argument('[command]').action(needsCommand(program));
config.action(needsCommand(config));

// A reader that goes away (`| head`) is not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

program.parseAsync().catch((err: Error) => {
  if (err instanceof CommanderError) {
    // Help and --version are not failures; commander has printed the rest already.
    process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2);
  }
  process.stderr.write(`strata: ${err.message.split('\n')[0]}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
