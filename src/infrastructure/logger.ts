import pino, { type Logger } from 'pino';

interface RequestLike {
  method?: string;
  url?: string;
  ip?: string;
  id?: string;
}

/**
 * JSON lines on stdout. Requests are logged by method and path only: a query string may hold
 * a login_hint or a misplaced token, and headers hold credentials and cookies. Codes and tokens
 * are never passed to the logger; the redaction list is a second line of defence.
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
      redact: { paths: ['*.authorization', '*.cookie', '*.password', '*.client_secret', '*.access_token', '*.refresh_token', '*.id_token'], censor: '[redacted]' },
    },
    destination,
  );
}
