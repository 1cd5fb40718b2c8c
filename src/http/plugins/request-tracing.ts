import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GRANTS } from '../../application/grants/index.js';
import { PATHS } from '../../application/services/discovery.js';
import { OAuthError } from '../../protocol/errors.js';
import type { RequestTracing } from '../../infrastructure/tracing.js';

/** Methods named as they are; any other becomes _OTHER (OpenTelemetry HTTP semantic conventions). */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);
/** The OAuth endpoints whose spans name the client (and, for the token endpoint, the grant type). */
const OAUTH_ROUTES = new Set<string>([PATHS.authorization, PATHS.pushedAuthorizationRequest, PATHS.token, PATHS.revocation, PATHS.introspection]);
/** A client_id is cut to this many characters, as the audit log cuts a claimed one (failed-client-auth.ts). */
const CLIENT_ID_MAX = 64;

/**
 * One OpenTelemetry SERVER span per request (src/infrastructure/tracing.ts), registered only when
 * tracing is on: without it no hook exists. Everything is read once the answer is sent, in one
 * onResponse hook (and an onError hook on the error path, for the OAuth error code). A span holds the
 * method, the route pattern (never the URL: no query string, no interaction id), the status, the
 * scheme, and on OAuth endpoints the grant type and the client_id: never a token, a code, a
 * secret, an assertion, a password or a cookie.
 */
export const requestTracingPlugin = fp(
  async (app: FastifyInstance, { tracing }: { tracing: RequestTracing }) => {
    const errors = new WeakMap<FastifyRequest, string>();
    // The OAuth error code answered (RFC 6749 §5.2): a closed set, named by the server.
    app.addHook('onError', (request, _reply, error, done) => {
      if (error instanceof OAuthError) errors.set(request, error.error);
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      tracing.record(spanOf(request, reply, errors.get(request)));
      done();
    });
  },
  { name: 'trusty-request-tracing' },
);

function spanOf(request: FastifyRequest, reply: FastifyReply, error: string | undefined) {
  const endMs = performance.timeOrigin + performance.now();
  const route = request.is404 ? undefined : request.routeOptions.url;
  const status = reply.statusCode;
  const oauth = route !== undefined && OAUTH_ROUTES.has(route);
  const params = oauth ? parametersOf(request, route) : undefined;
  const grantType = route === PATHS.token ? params?.grant_type : undefined;
  return {
    method: KNOWN_METHODS.has(request.method) ? request.method : '_OTHER',
    route,
    status,
    scheme: request.protocol,
    startMs: endMs - reply.elapsedTime,
    endMs,
    // Only a grant type the server implements: the parameter is whatever the caller typed.
    grantType: typeof grantType === 'string' && GRANTS.has(grantType) ? grantType : undefined,
    clientId: oauth ? clientIdOf(request, params) : undefined,
    errorType: error ?? (status >= 500 ? String(status) : undefined),
    traceparent: header(request, 'traceparent'),
    tracestate: header(request, 'tracestate'),
  };
}

/** The form body, or the query of a GET /auth (read for client_id only: the rest of it is never recorded). */
function parametersOf(request: FastifyRequest, route: string): Record<string, unknown> | undefined {
  const source = route === PATHS.authorization && request.method === 'GET' ? request.query : request.body;
  return typeof source === 'object' && source !== null ? (source as Record<string, unknown>) : undefined;
}

/**
 * The client_id the request names: the client_id parameter, else the user name of HTTP Basic
 * (RFC 6749 §2.3.1, form-encoded), never the password beside it. Unverified when the request
 * failed (as in the audit log's client.auth_failed).
 */
function clientIdOf(request: FastifyRequest, params: Record<string, unknown> | undefined): string | undefined {
  const parameter = params?.client_id;
  if (typeof parameter === 'string' && parameter !== '') return parameter.slice(0, CLIENT_ID_MAX);
  const match = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(request.headers.authorization ?? '');
  if (match === null) return undefined;
  const credentials = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = credentials.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    return decodeURIComponent(credentials.slice(0, colon).replace(/\+/g, ' ')).slice(0, CLIENT_ID_MAX);
  } catch {
    return undefined; // not form-encoded: not a client_id this server could have
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}
