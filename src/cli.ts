#!/usr/bin/env node
// strata's command line: one program, one subcommand per job.
import { Command, Option } from 'commander';
import { checkBackend, DEFAULTS, loadConfigFile, type Config } from './config';
import { createLogger } from './log';
import { serve } from './commands/serve';

interface ServeFlags {
  root?: string;
  address?: string;
  backend?: string;
  config?: string;
  logLevel?: string;
}

function resolveConfig(flags: ServeFlags): Config {
  const file = flags.config ? loadConfigFile(flags.config) : {};
  return {
    root: flags.root ?? file.root ?? DEFAULTS.root,
    address: flags.address ?? file.address ?? DEFAULTS.address,
    backend: flags.backend ? checkBackend(flags.backend, '--backend') : (file.backend ?? DEFAULTS.backend),
    logLevel: flags.logLevel ?? file.logLevel ?? DEFAULTS.logLevel,
    syncFs: file.syncFs ?? DEFAULTS.syncFs,
  };
}

const program = new Command()
  .name('strata')
  .description('A containerd storage plugin: Snapshots, Content and Diff services on one unix socket')
  .showHelpAfterError();

program
  .command('serve')
  .description('serve the Snapshots, Content and Diff services on a unix socket')
  .option('--root <dir>', `directory holding all state (default ${DEFAULTS.root})`)
  .option('--address <socket>', `unix socket to listen on (default ${DEFAULTS.address})`)
  .addOption(new Option('--backend <name>', `snapshot backend (default ${DEFAULTS.backend})`).choices(['overlayfs', 'native']))
  .option('--config <file>', 'TOML configuration file; flags override it')
  .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error']))
  .action(async (flags: ServeFlags) => {
    const config = resolveConfig(flags);
    await serve(config, createLogger(config.logLevel));
  });

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`strata: ${err.message}\n`);
  process.exit(1);
});
