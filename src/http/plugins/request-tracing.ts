import proxyAddr from '@fastify/proxy-addr';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GRANTS } from '../../application/grants/index.js';
import { PATHS } from '../../application/services/discovery.js';
import { FAILED_AUTH_CLIENT_ID_LENGTH } from '../../application/services/failed-client-auth.js';
import { claimedClientId } from '../../protocol/client-credentials.js';
import { OAuthError } from '../../protocol/errors.js';
import type { RequestSpan, RequestTracing } from '../../infrastructure/tracing.js';

/** Methods named as they are; any other becomes _OTHER (OpenTelemetry HTTP semantic conventions). */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);
/** The OAuth endpoints whose spans name the client (and, for the token endpoint, the grant type). */
const OAUTH_ROUTES = new Set<string>([PATHS.authorization, PATHS.pushedAuthorizationRequest, PATHS.token, PATHS.revocation, PATHS.introspection]);

export interface RequestTracingOptions {
  readonly tracing: RequestTracing;
  /** config trust_proxy (HttpDeps.trustProxy): the only callers whose traceparent is continued. */
  readonly trustProxy: readonly string[];
}

/**
 * One OpenTelemetry SERVER span per request (src/infrastructure/tracing.ts), registered only when
 * tracing is on: without it no hook exists. Everything is read once the answer is sent, in one
 * onResponse hook (and an onError hook on the error path, for the OAuth error code). A span holds the
 * method, the route pattern (never the URL: no query string, no interaction id), the status, the
 * scheme, and on OAuth endpoints the grant type and the client_id: never a token, a code, a
 * secret, an assertion, a password or a cookie.
 */
export const requestTracingPlugin = fp(
  async (app: FastifyInstance, { tracing, trustProxy }: RequestTracingOptions) => {
    // The same test Fastify applies to X-Forwarded-* (its trustProxy option is compiled by this
    // library from the same list, src/app.ts): a trusted proxy is the socket's peer itself.
    const trusted = trustProxy.length > 0 ? proxyAddr.compile([...trustProxy]) : undefined;
    const errors = new WeakMap<FastifyRequest, string>();
    // The OAuth error code answered (RFC 6749 §5.2): a closed set, named by the server.
    app.addHook('onError', (request, _reply, error, done) => {
      if (error instanceof OAuthError) errors.set(request, error.error);
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      tracing.record(spanOf(request, reply, errors.get(request), trusted));
      done();
    });
  },
  { name: 'trusty-request-tracing' },
);

function spanOf(request: FastifyRequest, reply: FastifyReply, error: string | undefined, trusted: ((address: string, hop: number) => boolean) | undefined): RequestSpan {
  const endMs = performance.timeOrigin + performance.now();
  const route = request.is404 ? undefined : request.routeOptions.url;
  const status = reply.statusCode;
  const oauth = route !== undefined && OAUTH_ROUTES.has(route);
  const params = oauth ? parametersOf(request, route) : undefined;
  const grantType = route === PATHS.token ? params?.grant_type : undefined;
  const traceparent = header(request, 'traceparent');
  return {
    method: KNOWN_METHODS.has(request.method) ? request.method : '_OTHER',
    route,
    status,
    scheme: request.protocol,
    startMs: endMs - reply.elapsedTime,
    endMs,
    // Only a grant type the server implements: the parameter is whatever the caller typed.
    grantType: typeof grantType === 'string' && GRANTS.has(grantType) ? grantType : undefined,
    // Unverified when the request failed, and cut as the audit log cuts a claimed client_id.
    clientId: oauth ? claimedClientId(request.headers.authorization, params?.client_id)?.slice(0, FAILED_AUTH_CLIENT_ID_LENGTH) : undefined,
    errorType: error ?? (status >= 500 ? String(status) : undefined),
    traceparent,
    tracestate: header(request, 'tracestate'),
    traceContextTrusted: traceparent !== undefined && trusted !== undefined && fromTrustedProxy(request, trusted),
  };
}

/** Whether the socket's peer (not any X-Forwarded-For address, which a caller writes) is one of trust_proxy. */
function fromTrustedProxy(request: FastifyRequest, trusted: (address: string, hop: number) => boolean): boolean {
  const address = request.socket.remoteAddress;
  return address !== undefined && trusted(address, 0);
}

/** The form body, or the query of a GET /auth (read for client_id only: the rest of it is never recorded). */
function parametersOf(request: FastifyRequest, route: string): Record<string, unknown> | undefined {
  const source = route === PATHS.authorization && request.method === 'GET' ? request.query : request.body;
  return typeof source === 'object' && source !== null ? (source as Record<string, unknown>) : undefined;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}
