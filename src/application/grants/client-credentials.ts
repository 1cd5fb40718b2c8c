import { parseScope } from '../../domain/scope.js';
import { quoteInput } from '../../protocol/error-description.js';
import { InvalidScope } from '../../protocol/errors.js';
import { assertResources } from '../../protocol/resource-indicators.js';
import type { Grant } from './grant.js';

/**
 * grant_type=client_credentials (RFC 6749 §4.4) for services and agents: the granted scope is
 * the requested subset of what the client may ask for (all of it when none is asked for), the
 * audience the RFC 8707 resources asked for, and there is no refresh token (§4.4.3). What the
 * client may ask for is its own scope and resources plus its roles' (src/domain/role.ts).
 * This is the hottest path of the server: a cached client, a cached role union, one signature, no SQL.
 */
export const clientCredentialsGrant: Grant = {
  grantType: 'client_credentials',

  async handle({ client, params, resources, ip, userAgent, dpop, consumeProof }, deps) {
    const allowed = deps.roles.forClient(client);
    let scopes = allowed.scopes;
    if (params.scope !== undefined) {
      const requested = parseScope(params.scope);
      if (requested === undefined || requested.length === 0) throw new InvalidScope('scope is malformed');
      // RFC 6749 §4.4.2 and §3.3: a scope outside the client's (and its roles') is refused.
      const refused = requested.filter((scope) => !allowed.scopeSet.has(scope));
      if (refused.length > 0) throw new InvalidScope(`scope not allowed for this client: ${refused.map((s) => quoteInput(s)).join(' ')}`);
      scopes = requested;
    }
    // RFC 8707 §2.2: a resource outside the client's (and its roles') is invalid_target.
    const audience = assertResources(resources, allowed.resources);
    // Nothing for a confidential client (its proof was remembered after authentication).
    await consumeProof();
    // RFC 9068 §2.2: without a resource owner, sub is the client itself.
    const token = await deps.tokens.accessToken({
      client,
      subject: client.clientId,
      scopes,
      audience,
      jkt: dpop?.jkt,
      roles: client.rolesClaim === true ? allowed.roles : undefined,
    });
    deps.audit.record({ event: 'token.issued', clientId: client.clientId, ip, userAgent, details: { grant_type: 'client_credentials', jti: token.jti } });
    return {
      access_token: token.token,
      token_type: dpop === undefined ? 'Bearer' : 'DPoP',
      expires_in: token.expiresAt - token.issuedAt,
      scope: scopes.join(' '),
    };
  },
};
