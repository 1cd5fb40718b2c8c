import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { validateAuthorizationRequest } from '../../application/authorize/validate.js';
import type { RawParameters } from '../../protocol/parameters.js';
import { SESSION_COOKIE } from '../cookies.js';
import type { HttpDeps } from '../deps.js';
import { sendOutcome } from '../outcome.js';

/**
 * The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2): GET with a query, or POST
 * with a form (OIDC Core §3.1.2.1). With request_uri, the parameters come from a pushed
 * request (RFC 9126 §4). The checks live in application/authorize/checks.ts.
 */
export async function authorizeRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = ((request.method === 'POST' ? request.body : request.query) as RawParameters | undefined) ?? {};
    const authorizationRequest =
      params.request_uri !== undefined
        ? await deps.pushed.resolve(params)
        : await validateAuthorizationRequest(params, deps.clients, { endpoint: 'auth', parRequired: deps.pushed.options.required, idTokenHints: deps.idTokenHints });
    const session = await deps.sessions.find(request.cookies[SESSION_COOKIE]);
    const outcome = await deps.authorization.start(authorizationRequest, session);
    return sendOutcome(request, reply, outcome, deps);
  };
  // One per-address budget for both methods (rate_limits.per_ip.auth, src/http/plugins/rate-limit.ts).
  app.get('/auth', { config: { page: true, addressLimit: 'auth' } }, handler);
  app.post('/auth', { config: { page: true, addressLimit: 'auth' } }, handler);
}
