import type { FastifyInstance, FastifyRequest } from 'fastify';
import { exchange } from '../../application/grants/index.js';
import { PATHS } from '../../application/services/discovery.js';
import { singleAll, type RawParameters } from '../../protocol/parameters.js';
import type { HttpDeps } from '../deps.js';
import { addDpopNonce } from '../dpop.js';

/**
 * The token endpoint (RFC 6749 §3.2): application/x-www-form-urlencoded only (the app has no
 * other body parser), an optional DPoP proof (RFC 9449 §5), client authentication, then the
 * grant (application/grants/).
 */
export async function tokenRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const url = deps.issuer + PATHS.token;
  app.post(PATHS.token, async (request: FastifyRequest<{ Body: RawParameters | undefined }>, reply) => {
    const { resource, ...rest } = request.body ?? {};
    const params = singleAll(rest);
    const resources = resource === undefined ? [] : Array.isArray(resource) ? resource : [resource];
    const dpop = await deps.dpop.verify(request.headers.dpop, { method: 'POST', url });
    const response = await exchange({ authorization: request.headers.authorization, params, resources, ip: request.ip, endpoint: url, dpop }, deps.authenticator, deps.grants, deps.dpop);
    addDpopNonce(reply, deps, dpop !== undefined);
    // RFC 6749 §5.1: tokens are never cached.
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(response);
  });
}
