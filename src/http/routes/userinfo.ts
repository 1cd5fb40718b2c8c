import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { claimsForScopes } from '../../domain/scope.js';
import { InsufficientScope, InvalidRequest, InvalidToken } from '../../protocol/errors.js';
import type { HttpDeps } from '../deps.js';
import { MissingBearerToken } from '../plugins/error-handler.js';

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The UserInfo endpoint (OIDC Core §5.3), GET and POST, with a Bearer access token (RFC 6750 §2.1). */
export async function userinfoRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const authorization = request.headers.authorization;
    if (authorization === undefined) {
      // RFC 6750 §2.3 (access_token in the URI) is not offered: FAPI 2.0 forbids tokens in URLs.
      if ((request.query as Record<string, unknown>).access_token !== undefined) {
        throw new InvalidRequest('access tokens are not accepted in the query; use the Authorization header');
      }
      throw new MissingBearerToken('a Bearer access token is required in the Authorization header');
    }
    const match = BEARER.exec(authorization);
    if (match === null) throw new InvalidToken('the Authorization header must be Bearer <access token>');
    const token = await deps.accessTokens.verify(match[1]!);
    // OIDC Core §5.3.1: UserInfo needs an access token granted the openid scope.
    if (!token.scopes.includes('openid')) throw new InsufficientScope('the access token was not granted the openid scope');
    const user = await deps.users.findById(token.sub);
    if (user === undefined) throw new InvalidToken('the user of this access token no longer exists');
    return reply
      .header('cache-control', 'no-store')
      .header('pragma', 'no-cache')
      .send({ ...claimsForScopes(token.scopes, user.claims), sub: user.id });
  };
  app.get('/userinfo', { config: { bearer: true } }, handler);
  app.post('/userinfo', { config: { bearer: true } }, handler);
}
