import type { FastifyInstance, FastifyRequest } from 'fastify';
import { replayOwner } from '../../application/services/client-authenticator.js';
import { isPublicClient } from '../../domain/client.js';
import { PATHS } from '../../application/services/discovery.js';
import { single, type RawParameters } from '../../protocol/parameters.js';
import type { HttpDeps } from '../deps.js';
import { recordingFailedClientAuth } from '../failed-client-auth.js';
import { addDpopNonce } from '../dpop.js';

const CREDENTIALS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'] as const;

/**
 * The pushed authorization request endpoint (RFC 9126 §2): the client authenticates as at
 * /token, the parameters are checked as /auth would, and the answer is a request_uri.
 */
export async function parRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const url = deps.issuer + PATHS.pushedAuthorizationRequest;
  app.post(PATHS.pushedAuthorizationRequest, { config: { addressLimit: 'par' } }, async (request: FastifyRequest<{ Body: RawParameters | undefined }>, reply) => {
    const params = request.body ?? {};
    const proof = await deps.dpop.verify(request.headers.dpop, { method: 'POST', url });
    const credentials = Object.fromEntries(CREDENTIALS.map((name) => [name, single(params, name)]));
    const client = await deps.authenticator.authenticate(request.headers.authorization, credentials, url).catch(recordingFailedClientAuth(deps, request, PATHS.pushedAuthorizationRequest));
    // RFC 9449 §11.1: the proof's jti is remembered only once the caller is known to be entitled:
    // a confidential client once authenticated; a public client (anyone can send its client_id)
    // once its request was validated (before anything is stored). A public client's pushes make
    // room in the PAR store rather than being refused, so their number is not bounded there: their
    // proofs get a share of their own, apart from what its users need at /token and /userinfo (a
    // share per endpoint misses no replay: htu binds a proof to one endpoint, RFC 9449 §4.3 (5)),
    // and at that share the oldest is forgotten rather than a push refused: replaying a forgotten
    // /par proof only pushes a request bound to a key the replayer does not hold.
    const isPublic = isPublicClient(client);
    const owner = isPublic ? { clientId: `${client.clientId} ${PATHS.pushedAuthorizationRequest}`, isPublic: true, forgetOldestWhenFull: true } : replayOwner(client);
    const remember = proof === undefined ? undefined : () => deps.dpop.remember(proof, owner);
    if (remember !== undefined && !isPublic) await remember();
    const { client_secret: _secret, client_assertion: _assertion, client_assertion_type: _type, ...authorizationParams } = params;
    const pushed = await deps.pushed.push(client, authorizationParams, proof?.jkt, isPublic ? remember : undefined);
    addDpopNonce(reply, deps, proof !== undefined);
    // RFC 9126 §2.2: 201 Created with request_uri and expires_in; never cached.
    return reply.code(201).header('cache-control', 'no-store').send({ request_uri: pushed.requestUri, expires_in: pushed.expiresIn });
  });
}
