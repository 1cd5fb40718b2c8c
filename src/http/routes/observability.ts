import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authorizeOperator } from '../admin/plugin.js';
import { AdminHttpError, sendProblem } from '../admin/problem.js';
import type { HttpDeps } from '../deps.js';

export const OBSERVABILITY_PREFIX = '/observability';

/**
 * GET /observability/sessions, /tokens and /clients (docs/observability.md): JSON summaries for
 * an operator's dashboard, computed at each call. Authorized as the management API is (an access
 * token of this server's, client_credentials, scope trusty:observability:read or trusty:admin),
 * refused with its RFC 9457 problems; not part of /admin/v1 nor of its OpenAPI document.
 * Registered with OBSERVABILITY_PREFIX, in a context of its own (its error handler).
 */
export async function observabilityRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const realm = deps.issuer + OBSERVABILITY_PREFIX;
  app.setErrorHandler(async (error, request, reply) => sendProblem(error, request, reply, realm));
  app.setNotFoundHandler(async (request, reply) =>
    sendProblem(new AdminHttpError({ type: 'urn:trusty:problem:not-found', title: 'Not found', status: 404, detail: 'no such observability summary: sessions, tokens or clients' }), request, reply, realm),
  );

  const summary = (read: () => Promise<unknown>) => async (request: FastifyRequest, reply: FastifyReply) => {
    await authorizeOperator(request, reply, deps, 'trusty:observability:read');
    const body = await read();
    // Counts of a moment, about who signs in and which clients get tokens: never stored by a cache.
    return reply.header('cache-control', 'no-store').header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  };
  app.get('/sessions', summary(() => deps.observability.sessions()));
  app.get('/tokens', summary(() => deps.observability.tokens()));
  app.get('/clients', summary(() => deps.observability.clients()));
}
