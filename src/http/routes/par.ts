import type { FastifyInstance, FastifyRequest } from 'fastify';
import { replayOwner } from '../../application/services/client-authenticator.js';
import { PATHS } from '../../application/services/discovery.js';
import { single, type RawParameters } from '../../protocol/parameters.js';
import type { HttpDeps } from '../deps.js';
import { addDpopNonce } from '../dpop.js';

const CREDENTIALS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'] as const;

/**
 * The pushed authorization request endpoint (RFC 9126 §2): the client authenticates as at
 * /token, the parameters are checked as /auth would, and the answer is a request_uri.
 */
export async function parRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const url = deps.issuer + PATHS.pushedAuthorizationRequest;
  app.post(PATHS.pushedAuthorizationRequest, async (request: FastifyRequest<{ Body: RawParameters | undefined }>, reply) => {
    const params = request.body ?? {};
    const proof = await deps.dpop.verify(request.headers.dpop, { method: 'POST', url });
    const credentials = Object.fromEntries(CREDENTIALS.map((name) => [name, single(params, name)]));
    const client = await deps.authenticator.authenticate(request.headers.authorization, credentials, url);
    // RFC 9449 §11.1: the proof's jti is remembered only once the client is authenticated.
    if (proof !== undefined) await deps.dpop.remember(proof, replayOwner(client));
    const { client_secret: _secret, client_assertion: _assertion, client_assertion_type: _type, ...authorizationParams } = params;
    const pushed = await deps.pushed.push(client, authorizationParams, proof?.jkt);
    addDpopNonce(reply, deps, proof !== undefined);
    // RFC 9126 §2.2: 201 Created with request_uri and expires_in; never cached.
    return reply.code(201).header('cache-control', 'no-store').send({ request_uri: pushed.requestUri, expires_in: pushed.expiresIn });
  });
}
