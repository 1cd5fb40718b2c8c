import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PATHS } from '../../application/services/discovery.js';
import { InvalidRequest } from '../../protocol/errors.js';
import { singleAll, type RawParameters } from '../../protocol/parameters.js';
import type { HttpDeps } from '../deps.js';
import { recordingFailedClientAuth } from '../failed-client-auth.js';

/** The revocation endpoint (RFC 7009 §2): client authentication, then the token; 200 even when unknown. */
export async function revokeRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const url = deps.issuer + PATHS.revocation;
  app.post(PATHS.revocation, { config: { addressLimit: 'revoke' } }, async (request: FastifyRequest<{ Body: RawParameters | undefined }>, reply) => {
    const params = singleAll(request.body ?? {});
    const client = await deps.authenticator.authenticate(request.headers.authorization, params, url).catch(recordingFailedClientAuth(deps, request, PATHS.revocation));
    if (params.token === undefined) throw new InvalidRequest('token is required');
    await deps.tokenStatus.revoke(client, params.token, request.ip, request.headers['user-agent']);
    return reply.header('cache-control', 'no-store').code(200).send();
  });
}
