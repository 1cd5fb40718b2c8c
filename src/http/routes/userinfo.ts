import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PATHS } from '../../application/services/discovery.js';
import { claimsForScopes } from '../../domain/scope.js';
import { InsufficientScope, InvalidRequest, InvalidToken } from '../../protocol/errors.js';
import type { HttpDeps } from '../deps.js';
import { accessTokenOf } from '../protected-resource.js';

/**
 * The UserInfo endpoint (OIDC Core §5.3), GET and POST, with a Bearer access token
 * (RFC 6750 §2.1) or a DPoP-bound one and its proof (RFC 9449 §7).
 */
export async function userinfoRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const url = deps.issuer + PATHS.userinfo;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    // RFC 6750 §2.3 (access_token in the URI) is not offered: FAPI 2.0 forbids tokens in URLs.
    if (request.headers.authorization === undefined && (request.query as Record<string, unknown>).access_token !== undefined) {
      throw new InvalidRequest('access tokens are not accepted in the query; use the Authorization header');
    }
    const { token } = await accessTokenOf(request, reply, deps, url, 'an access token is required in the Authorization header');
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
