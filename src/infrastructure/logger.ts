import pino, { type Logger } from 'pino';

interface RequestLike {
  method?: string;
  url?: string;
  ip?: string;
  id?: string;
}

/** Keys whose values never reach a log line, at the top of a logged object or one level down. */
export const SECRET_LOG_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'password',
  'client_secret',
  'client_assertion',
  'code',
  'code_verifier',
  'access_token',
  'refresh_token',
  'id_token',
]);
export const CENSORED = '[redacted]';

/**
 * JSON lines on stdout. Requests are logged by method and path only: a query string may hold
 * a login_hint or a misplaced token, and headers hold credentials and cookies. Codes and tokens
 * are never passed to the logger; censoring SECRET_LOG_KEYS is a second line of defence.
 *
 * That censoring runs only when a line is written. pino's own `redact` with wildcard paths
 * also ran on every child logger's bindings, that is on every request's reqId: a tenth of the
 * token endpoint's allocations, measured with the bench's heap profile.
 */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination({ sync: false })): Logger {
  return pino(
    {
      level,
      base: { service: 'trusty' },
      serializers: {
        req: (req: RequestLike) => ({ id: req.id, method: req.method, path: req.url?.split('?')[0], ip: req.ip }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
      formatters: { log: censorSecrets },
    },
    destination,
  );
}

/** A copy of `object` with SECRET_LOG_KEYS censored at depth 0 and 1; `object` itself when none is there. */
export function censorSecrets(object: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    if (SECRET_LOG_KEYS.has(key)) {
      (out ??= { ...object })[key] = CENSORED;
      continue;
    }
    const value = object[key];
    // Errors go through pino's err serializer, which copies only what an Error carries.
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Error) continue;
    let inner: Record<string, unknown> | undefined;
    for (const innerKey of Object.keys(value)) {
      if (SECRET_LOG_KEYS.has(innerKey)) (inner ??= { ...(value as Record<string, unknown>) })[innerKey] = CENSORED;
    }
    if (inner !== undefined) (out ??= { ...object })[key] = inner;
  }
  return out ?? object;
}
