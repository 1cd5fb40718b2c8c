import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PATHS } from '../../application/services/discovery.js';
import { INTROSPECTION_JWT_TYPE } from '../../application/services/token-status.js';
import { InvalidRequest } from '../../protocol/errors.js';
import { singleAll, type RawParameters } from '../../protocol/parameters.js';
import type { HttpDeps } from '../deps.js';
import { recordingFailedClientAuth } from '../failed-client-auth.js';

/**
 * The introspection endpoint (RFC 7662 §2): a confidential client asks about a token; JSON,
 * or a signed JWT when it accepts application/token-introspection+jwt (RFC 9701 §4).
 */
export async function introspectRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const url = deps.issuer + PATHS.introspection;
  app.post(PATHS.introspection, { config: { addressLimit: 'introspect' } }, async (request: FastifyRequest<{ Body: RawParameters | undefined }>, reply) => {
    const params = singleAll(request.body ?? {});
    const client = await deps.authenticator.authenticate(request.headers.authorization, params, url).catch(recordingFailedClientAuth(deps, request, PATHS.introspection));
    if (params.token === undefined) throw new InvalidRequest('token is required');
    const response = await deps.tokenStatus.introspect(client, params.token);
    reply.header('cache-control', 'no-store');
    if ((request.headers.accept ?? '').includes(`application/${INTROSPECTION_JWT_TYPE}`)) {
      const jwt = await deps.tokenStatus.signIntrospection(client, response);
      return reply.header('content-type', `application/${INTROSPECTION_JWT_TYPE}`).send(jwt);
    }
    return reply.send(response);
  });
}
