import type { FastifyInstance, FastifyRequest } from 'fastify';
import { exchange } from '../../application/grants/index.js';
import { singleAll, type RawParameters } from '../../protocol/parameters.js';
import type { HttpDeps } from '../deps.js';

/**
 * The token endpoint (RFC 6749 §3.2): application/x-www-form-urlencoded only (the app has no
 * other body parser), client authentication, then the grant (application/grants/).
 */
export async function tokenRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  app.post('/token', async (request: FastifyRequest<{ Body: RawParameters | undefined }>, reply) => {
    const params = singleAll(request.body ?? {});
    const response = await exchange({ authorization: request.headers.authorization, params, ip: request.ip }, deps.authenticator, deps.grants);
    // RFC 6749 §5.1: tokens are never cached.
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(response);
  });
}
