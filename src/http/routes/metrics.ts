import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ClientAuthenticatedEndpoint } from '../../application/ports/rate-limiter.js';
import { CLIENT_AUTHENTICATED_PATHS } from '../../application/services/discovery.js';
import { UNMATCHED_ROUTE, type HttpRequests } from '../../infrastructure/metrics/http-requests.js';
import type { MetricsAccess, TrustyMetrics } from '../../infrastructure/metrics/registry.js';
import { OAuthError } from '../../protocol/errors.js';
import { authorizeOperator } from '../admin/plugin.js';
import { AdminHttpError, sendProblem } from '../admin/problem.js';
import type { HttpDeps } from '../deps.js';
import { presentedToken } from '../protected-resource.js';

export const METRICS_PATH = '/metrics';

/** The endpoints whose error codes are counted (trusty_token_errors_total's endpoint label). */
const COUNTED_ERRORS = new Map<string, ClientAuthenticatedEndpoint>(
  Object.entries(CLIENT_AUTHENTICATED_PATHS).map(([endpoint, path]) => [path, endpoint as ClientAuthenticatedEndpoint]),
);

/**
 * What every request pays for the metrics: one onResponse hook, for every route and for the
 * not-found handlers, registered before the routes so they all inherit it. It reads the route
 * pattern, the method, the status and reply.elapsedTime (the clock Fastify read already) and
 * adds them to plain numbers (src/infrastructure/metrics/http-requests.ts): about 0.1 µs
 * (bench/metrics-hook.ts). Error codes are read in an onError hook, which runs only on the
 * error path. Registered only when metrics.enabled.
 */
export const requestMetricsPlugin = fp(
  async (app: FastifyInstance, { metrics }: { metrics: TrustyMetrics }) => {
    app.addHook('onResponse', responseObserver(metrics.http));
    app.addHook('onError', (request, _reply, error, done) => {
      const endpoint = request.is404 ? undefined : COUNTED_ERRORS.get(request.routeOptions.url ?? '');
      if (endpoint !== undefined) metrics.countTokenError(endpoint, errorCode(error));
      done();
    });
  },
  { name: 'trusty-request-metrics' },
);

/** The onResponse hook (exported for bench/metrics-hook.ts, which times it). */
export function responseObserver(requests: HttpRequests) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    // A not-found handler's request: its URL is anything a caller typed, never a label.
    requests.observe((request.is404 ? undefined : request.routeOptions.url) ?? UNMATCHED_ROUTE, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  };
}

/**
 * The code the error handler (src/http/plugins/error-handler.ts) answers with: an OAuthError's
 * own, and for what Fastify raises (body too large, wrong content type, unparsable body)
 * invalid_request, anything else server_error. A bounded set: the error classes' codes.
 */
function errorCode(error: FastifyError | Error): string {
  if (error instanceof OAuthError) return error.error;
  const status = (error as Partial<FastifyError>).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? 'invalid_request' : 'server_error';
}

/**
 * GET /metrics: the Prometheus text exposition (format 0.0.4), computed at each scrape; no route
 * at all when metrics.enabled is false (404). Protected by metrics.auth: none, a static bearer
 * token (token), or a management-API access token with trusty:metrics or trusty:admin (admin).
 * Refusals are RFC 9457 problems with an RFC 6750 §3 challenge, as the management API's.
 */
export async function metricsRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const metrics = deps.metrics;
  if (metrics === undefined) return;
  const realm = deps.issuer + METRICS_PATH;
  const authorize = authorizer(metrics.access, deps, realm);
  app.get(
    METRICS_PATH,
    { errorHandler: (error, request, reply) => sendProblem(error, request, reply, realm) },
    async (request: FastifyRequest, reply: FastifyReply) => {
      await authorize(request, reply);
      const text = await metrics.render();
      return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
    },
  );
}

type Authorize = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

function authorizer(access: MetricsAccess, deps: HttpDeps, realm: string): Authorize {
  switch (access.auth) {
    case 'none':
      return async () => undefined;
    case 'admin':
      return (request, reply) => authorizeOperator(request, reply, deps, 'trusty:metrics');
    case 'token': {
      // The schema requires the token with auth: token (at least 32 token68 characters).
      const expected = sha256(access.token!);
      return async (request) => {
        // The header read as every protected resource of this server reads it (protected-resource.ts).
        const presented = presentedToken(request.headers.authorization);
        // RFC 6750 §3.1: a request without a Bearer token gets the challenge without an error code.
        if (presented?.scheme !== 'Bearer') throw unauthorized('invalid-request', 'the metrics token is required: Authorization: Bearer <metrics.token>', `Bearer realm="${realm}"`);
        // Digests of equal length, compared in constant time: neither the token's characters
        // nor its length show in the time taken.
        if (!timingSafeEqual(sha256(presented.token), expected)) {
          throw unauthorized('invalid-token', 'the metrics token is not the configured one', `Bearer realm="${realm}", error="invalid_token"`);
        }
      };
    }
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function unauthorized(type: 'invalid-request' | 'invalid-token', detail: string, challenge: string): AdminHttpError {
  return new AdminHttpError({ type: `urn:trusty:problem:${type}`, title: 'Unauthorized', status: 401, detail }, { 'www-authenticate': challenge });
}
