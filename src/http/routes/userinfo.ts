import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PATHS } from '../../application/services/discovery.js';
import { replayOwner } from '../../application/services/client-authenticator.js';
import { claimsForScopes } from '../../domain/scope.js';
import { InsufficientScope, InvalidDpopProof, InvalidRequest, InvalidToken } from '../../protocol/errors.js';
import type { HttpDeps } from '../deps.js';
import { addDpopNonce } from '../dpop.js';
import { MissingAccessToken } from '../plugins/error-handler.js';

// RFC 6750 §2.1 and RFC 9449 §7.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const AUTHORIZATION = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The UserInfo endpoint (OIDC Core §5.3), GET and POST, with a Bearer access token
 * (RFC 6750 §2.1) or a DPoP-bound one and its proof (RFC 9449 §7).
 */
export async function userinfoRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const url = deps.issuer + PATHS.userinfo;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const authorization = request.headers.authorization;
    if (authorization === undefined) {
      // RFC 6750 §2.3 (access_token in the URI) is not offered: FAPI 2.0 forbids tokens in URLs.
      if ((request.query as Record<string, unknown>).access_token !== undefined) {
        throw new InvalidRequest('access tokens are not accepted in the query; use the Authorization header');
      }
      throw new MissingAccessToken('an access token is required in the Authorization header');
    }
    const match = AUTHORIZATION.exec(authorization);
    if (match === null) throw new InvalidToken('the Authorization header must be Bearer <access token> or DPoP <access token>');
    const scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const accessToken = match[2]!;
    const token = await deps.accessTokens.verify(accessToken);
    if (scheme === 'DPoP') {
      // RFC 9449 §7.1: the proof covers this request and this token (ath), with the token's key.
      const proof = await deps.dpop.verify(request.headers.dpop, { method: request.method, url, accessToken });
      if (proof === undefined) throw new InvalidDpopProof('a DPoP proof is required with the DPoP authorization scheme');
      if (token.jkt === undefined) throw new InvalidToken('the access token is not DPoP-bound: use the Bearer scheme', 'DPoP');
      if (proof.jkt !== token.jkt) throw new InvalidToken('the DPoP proof key does not match the key the access token is bound to', 'DPoP');
      // RFC 9449 §11.1: remembered once the token is verified, in its client's share of the cache.
      // verify() refused a token whose client is disabled: the client is there.
      const client = await deps.clients.findById(token.clientId);
      if (client === undefined) throw new InvalidToken('the client of this access token is disabled');
      await deps.dpop.remember(proof, replayOwner(client));
      addDpopNonce(reply, deps, true);
    } else if (token.jkt !== undefined) {
      // RFC 9449 §7.2: a DPoP-bound token sent as a Bearer token is refused.
      throw new InvalidToken('the access token is DPoP-bound: use the DPoP authorization scheme with a proof', 'DPoP');
    }
    // OIDC Core §5.3.1: UserInfo needs an access token granted the openid scope.
    if (!token.scopes.includes('openid')) throw new InsufficientScope('the access token was not granted the openid scope');
    const user = await deps.users.findById(token.sub);
    if (user === undefined) throw new InvalidToken('the user of this access token no longer exists');
    return reply
      .header('cache-control', 'no-store')
      .header('pragma', 'no-cache')
      .send({ ...claimsForScopes(token.scopes, user.claims), sub: user.id });
  };
  app.get(PATHS.userinfo, { config: { bearer: true } }, handler);
  app.post(PATHS.userinfo, { config: { bearer: true } }, handler);
}
