// Loads a TOML config file and puts the flags over it. Every mistake in it
// (bad TOML, an unknown key, a value of the wrong kind or out of range) is one
// ConfigError naming the file, line and key; a bad flag is a UsageError.
import { existsSync, readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { systemErrorMeaning } from '../system-error';
import { UsageError } from '../usage-error';
import { CONFIG_KEYS, DEFAULTS, listenerClash, parseKey, type Config } from './config';

/** Read by `strata serve` when no --config is given and the file exists. */
export const SYSTEM_CONFIG_FILE = '/etc/strata/config.toml';

/** A config file that cannot be used: the CLI exits with 2, as for a bad flag. */
export class ConfigError extends UsageError {}

const TABLES = new Set(CONFIG_KEYS.filter((k) => k.name.includes('.')).map((k) => k.name.split('.')[0]));

function keysOf(table: string): string {
  return CONFIG_KEYS.filter((k) => k.name.startsWith(`${table}.`))
    .map((k) => k.name.slice(table.length + 1))
    .join(', ');
}

/** TOML's key segments, bare or quoted: `a."b.c"` is a, b.c. */
function keySegments(text: string): string[] {
  const segments: string[] = [];
  const pattern = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/y;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < text.length && (match = pattern.exec(text))) segments.push(match[1] ?? match[2] ?? match[3]);
  return segments;
}

/**
 * The 1-based line where `dotted` (a key, or a table's name) is defined, by
 * following [table] headers and `key =` lines; undefined when it is written
 * some other way (an inline table, say).
 */
export function keyLine(text: string, dotted: string): number | undefined {
  let table: string[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    const header = /^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$/.exec(line);
    if (header) {
      table = keySegments(header[1]);
      if (table.join('.') === dotted) return index + 1;
      continue;
    }
    const assignment = /^\s*([^=#\s][^=#]*?)\s*=/.exec(line);
    if (!assignment) continue;
    const full = [...table, ...keySegments(assignment[1])];
    // A key's line also names each table it opens: `gc.mode = ...` is where gc is.
    for (let length = full.length; length > 0; length--) if (full.slice(0, length).join('.') === dotted) return index + 1;
  }
  return undefined;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

interface ConfigFile {
  /** What the file sets; the rest comes from flags and defaults. */
  values: Partial<Config>;
  /** The error for a mistake at `dotted` (a key, or a table), naming the file and the line. */
  error(dotted: string, message: string): ConfigError;
}

function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config ${file}: ${systemErrorMeaning(err) ?? (err as Error).message}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof TomlError) throw new ConfigError(`config ${file}:${err.line}: ${err.message.split('\n')[0]} (column ${err.column})`);
    throw err;
  }
  const error = (dotted: string, message: string) => {
    const line = keyLine(text, dotted);
    return new ConfigError(`config ${file}${line ? `:${line}` : ''}: ${message}`);
  };
  const values: Partial<Config> = {};
  const take = (name: string, value: unknown) => {
    const key = CONFIG_KEYS.find((k) => k.name === name);
    if (!key) {
      const [table] = name.split('.');
      throw error(name, name.includes('.') ? `unknown key ${name} ([${table}] takes ${keysOf(table)})` : `unknown key ${JSON.stringify(name)}`);
    }
    try {
      Object.assign(values, { [key.field]: parseKey(key, value) });
    } catch (err) {
      throw error(name, (err as Error).message);
    }
  };
  for (const [name, value] of Object.entries(doc)) {
    if (!TABLES.has(name)) take(name, value);
    else if (!isTable(value)) throw error(name, `[${name}] must be a table`);
    else for (const [inner, innerValue] of Object.entries(value)) take(`${name}.${inner}`, innerValue);
  }
  return { values, error };
}

/** What the file sets; the rest comes from flags and defaults. */
export function loadConfigFile(file: string): Partial<Config> {
  return readConfigFile(file).values;
}

export interface ConfigFlags {
  config?: string;
  root?: string;
  address?: string;
  backend?: string;
  logLevel?: string;
  gcMode?: string;
  /** The log as JSON lines: log.format = "json". */
  json?: boolean;
}

/** What the flags set, read as the keys they override are: a bad one is a UsageError naming the flag. */
function flagValues(flags: ConfigFlags): Partial<Config> {
  const values: Partial<Config> = {};
  for (const key of CONFIG_KEYS) {
    const value = (flags as Record<string, unknown>)[key.field];
    if (!key.flag || value === undefined) continue;
    try {
      Object.assign(values, { [key.field]: parseKey(key, value, key.flag) });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return values;
}

/**
 * Defaults, then the file (--config, or /etc/strata/config.toml if it
 * exists), then flags: every value as serve will take it, or a UsageError
 * for the first it would not.
 */
export function resolveConfig(flags: ConfigFlags, systemFile = SYSTEM_CONFIG_FILE): Config {
  const file = flags.config ?? (existsSync(systemFile) ? systemFile : undefined);
  const fromFile = file ? readConfigFile(file) : undefined;
  const config = { ...DEFAULTS, ...fromFile?.values, ...flagValues(flags), ...(flags.json ? { logFormat: 'json' as const } : {}) };
  const clash = listenerClash(config);
  // Only the file sets listeners other than address: a clash is always at one of its keys.
  if (clash) throw fromFile ? fromFile.error(clash.key, clash.message) : new UsageError(clash.message);
  return config;
}
