import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { isLoopbackHost } from '../protocol/redirect-uri.js';
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
  // Comma-separated: `TRUST_PROXY=10.0.0.0/8,fd00::/8`.
  { env: 'TRUST_PROXY', apply: (raw, v) => (raw.trust_proxy = v.split(',').map((part) => part.trim()).filter((part) => part !== '')) },
  {
    env: 'DATABASE_PATH',
    apply: (raw, v) => {
      const database = isRecord(raw.database) ? raw.database : {};
      raw.database = { ...database, path: v };
    },
  },
  {
    // A secret: kept out of config.yaml (and out of every message: only the field is named).
    env: 'METRICS_TOKEN',
    apply: (raw, v) => {
      const metrics = isRecord(raw.metrics) ? raw.metrics : {};
      raw.metrics = { ...metrics, token: v };
    },
  },
];
const ENV_FOR_FIELD: Record<string, string> = { port: 'PORT', host: 'HOST', issuer: 'ISSUER', log_level: 'LOG_LEVEL', 'database.path': 'DATABASE_PATH', 'metrics.token': 'METRICS_TOKEN', trust_proxy: 'TRUST_PROXY' };
/** Where ISSUER and the file say nothing, the issuer is this server's own address (PORT and HOST included). */
const DEFAULT_PORT = 8081;
const DEFAULT_HOST = '127.0.0.1';

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
  const derived = raw.issuer === undefined;
  if (derived) raw.issuer = defaultIssuer(raw.host, raw.port);
  // reportInput: zod 4 leaves the offending value out of an issue otherwise, and a wrong value
  // would read as a missing one ("is required").
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    // The issuer nobody wrote: say where it came from and what to set.
    const hint = derived && issue.path[0] === 'issuer' ? ` (${String(raw.issuer)}, made from host and port: set ISSUER or issuer)` : '';
    throw new ConfigError(`${source}: ${describeIssue(issue)}${hint}`);
  }
  const config = result.data;
  const dbPath = config.database.path;
  const resolved = env.DATABASE_PATH || isAbsolute(dbPath) || dbPath === ':memory:' ? dbPath : resolve(dirname(source), dbPath);
  return { ...config, database: { path: resolved }, source };
}

/**
 * The issuer of a server whose file and environment name none: http on the listening host and
 * port, so that `PORT=9000 npm start` advertises port 9000. A wildcard host (0.0.0.0, ::) is
 * reached on loopback; any other host must be loopback to be an http issuer (the schema says so).
 */
export function defaultIssuer(host: unknown, port: unknown): string {
  const name = typeof host === 'string' && host !== '' ? host : DEFAULT_HOST;
  // A wrong port is reported as such (port), not as an issuer that does not parse.
  const listening = typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535 ? port : DEFAULT_PORT;
  const reachable = name === '0.0.0.0' ? '127.0.0.1' : name === '::' ? '[::1]' : isIP(name) === 6 ? `[${name}]` : name;
  return `http://${reachable}:${listening}`;
}

/**
 * A warning when a server listening on loopback has a loopback issuer naming another port:
 * relying parties would be sent to a port nothing answers. Silent when the server listens on
 * another interface (0.0.0.0 in a container, where a port mapping `9000:8081` legitimately
 * makes the issuer's port differ) and when the issuer is not loopback (behind a proxy).
 */
export function issuerPortMismatch(config: Pick<Config, 'issuer' | 'port' | 'host'>): string | undefined {
  const url = new URL(config.issuer);
  if (!isLoopbackHost(url.hostname) || !isLoopbackHost(config.host) || config.port === 0) return undefined;
  const advertised = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (advertised === config.port) return undefined;
  return `the issuer ${config.issuer} names port ${advertised} but the server listens on port ${config.port}: set ISSUER (or issuer) to this server's public address, or leave it unset to follow PORT and HOST`;
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
  // trust_proxy[2] was set by TRUST_PROXY too: the variable is named for the list's items.
  const envName = ENV_FOR_FIELD[field] ?? ENV_FOR_FIELD[field.replace(/\[\d+\]$/, '')];
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
