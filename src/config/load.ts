import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

/** A configuration problem, described in one line that names the field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadedConfig extends Config {
  /** Where the file was read from (for messages). */
  readonly source: string;
}

/** Contract: environment variables that override config.yaml. */
const ENV_OVERRIDES: ReadonlyArray<{ env: string; apply: (raw: Record<string, unknown>, value: string) => void }> = [
  { env: 'PORT', apply: (raw, v) => (raw.port = /^\d+$/.test(v) ? Number(v) : v) },
  { env: 'HOST', apply: (raw, v) => (raw.host = v) },
  { env: 'ISSUER', apply: (raw, v) => (raw.issuer = v) },
  { env: 'LOG_LEVEL', apply: (raw, v) => (raw.log_level = v) },
  {
    env: 'DATABASE_PATH',
    apply: (raw, v) => {
      const database = isRecord(raw.database) ? raw.database : {};
      raw.database = { ...database, path: v };
    },
  },
];
const ENV_FOR_FIELD: Record<string, string> = { port: 'PORT', host: 'HOST', issuer: 'ISSUER', log_level: 'LOG_LEVEL', 'database.path': 'DATABASE_PATH' };

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.TRUSTY_CONFIG ?? 'config.yaml');
}

/** Reads, overrides from the environment and validates the configuration file. */
export function loadConfig(path = configPath(), env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${path}: cannot read the configuration file (${code ?? 'unknown error'})`);
  }
  return parseConfig(text, path, env);
}

export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const yamlError = document.errors[0];
  if (yamlError !== undefined) {
    const line = lineCounter.linePos(yamlError.pos[0]);
    const where = `line ${line.line}, column ${line.col}`;
    throw new ConfigError(`${source}: ${where}: ${firstLine(yamlError.message)}`);
  }
  const raw: unknown = document.toJS() ?? {};
  if (!isRecord(raw)) {
    throw new ConfigError(`${source}: the file must hold a mapping of settings (issuer, port, clients, …)`);
  }
  for (const { env: name, apply } of ENV_OVERRIDES) {
    const value = env[name];
    if (value !== undefined && value !== '') apply(raw, value);
  }
  // reportInput: zod 4 leaves the offending value out of an issue otherwise, and a wrong value
  // would read as a missing one ("is required").
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(`${source}: ${describeIssue(result.error.issues[0]!)}`);
  }
  const config = result.data;
  const dbPath = config.database.path;
  const resolved = env.DATABASE_PATH || isAbsolute(dbPath) || dbPath === ':memory:' ? dbPath : resolve(dirname(source), dbPath);
  return { ...config, database: { path: resolved }, source };
}

/** `clients[0].redirect_uris[1]: must be an absolute URL without a fragment` */
export function describeIssue(issue: z.core.$ZodIssue): string {
  let field = formatPath(issue.path);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    field = field === '' ? key : `${field}.${key}`;
    message = 'is not a known setting';
  } else if (issue.code === 'invalid_type' && issue.input === undefined) {
    message = 'is required';
  } else if (issue.code === 'invalid_value' && 'values' in issue) {
    message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  const envName = ENV_FOR_FIELD[field];
  const label = envName ? `${field} (or ${envName})` : field;
  return `${label === '' ? 'top level' : label}: ${firstLine(message)}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
