import type { FastifyInstance, FastifyRequest } from 'fastify';
import { exchange } from '../../application/grants/index.js';
import { PATHS } from '../../application/services/discovery.js';
import { singleAll, type RawParameters } from '../../protocol/parameters.js';
import type { HttpDeps } from '../deps.js';
import { recordIfClientAuthFailed } from '../failed-client-auth.js';
import { addDpopNonce } from '../dpop.js';

/**
 * The token endpoint (RFC 6749 §3.2): application/x-www-form-urlencoded only (the app has no
 * other body parser), an optional DPoP proof (RFC 9449 §5), client authentication, then the
 * grant (application/grants/).
 */
export async function tokenRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const url = deps.issuer + PATHS.token;
  app.post(PATHS.token, { config: { addressLimit: 'token' } }, async (request: FastifyRequest<{ Body: RawParameters | undefined }>, reply) => {
    const { resource, ...rest } = request.body ?? {};
    const params = singleAll(rest);
    const resources = resource === undefined ? [] : Array.isArray(resource) ? resource : [resource];
    const dpop = await deps.dpop.verify(request.headers.dpop, { method: 'POST', url });
    let response;
    try {
      const input = { authorization: request.headers.authorization, params, resources, ip: request.ip, userAgent: request.headers['user-agent'], endpoint: url, dpop };
      response = await exchange(input, deps.authenticator, deps.grants, deps.dpop);
    } catch (error) {
      // Nothing allocated for this on the way that succeeds (the hot path).
      recordIfClientAuthFailed(deps, request, PATHS.token, error);
      throw error;
    }
    addDpopNonce(reply, deps, dpop !== undefined);
    // RFC 6749 §5.1: tokens are never cached.
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(response);
  });
}
