import { isPublicClient } from '../../domain/client.js';
import { refreshTokenState } from '../../domain/refresh-token.js';
import { parseScope, scopesOutside } from '../../domain/scope.js';
import { InvalidDpopProof, InvalidGrant, InvalidRequest, InvalidScope } from '../../protocol/errors.js';
import { quoteInput } from '../../protocol/error-description.js';
import { sha256 } from '../../protocol/random.js';
import type { Grant } from './grant.js';
import { issueUserTokens } from './user-tokens.js';

const MAX_TOKEN_LENGTH = 256;

/**
 * grant_type=refresh_token (RFC 6749 §6, OIDC Core §12). Scope may only narrow. Public and
 * `oidc` clients get a new refresh token each time and the old one is spent; presenting a
 * spent one revokes the whole family (OAuth 2.0 Security BCP §4.14.2). `fapi2` confidential
 * clients keep theirs (FAPI 2.0 §5.3.2.1: no routine rotation) unless configured otherwise.
 */
export const refreshTokenGrant: Grant = {
  grantType: 'refresh_token',

  async handle({ client, params, ip, userAgent, dpop, consumeProof }, deps) {
    const presented = params.refresh_token;
    if (presented === undefined) throw new InvalidRequest('refresh_token is required');
    if (presented.length > MAX_TOKEN_LENGTH) throw new InvalidGrant('the refresh token is invalid');
    const now = deps.clock.now();
    const digest = sha256(presented);
    const stored = await deps.refreshTokens.find(digest);
    if (stored === undefined || stored.clientId !== client.clientId) throw new InvalidGrant('the refresh token is invalid');

    const state = refreshTokenState(stored, now);
    if (state === 'rotated') return reused(stored.grantId, stored.userId);
    if (state === 'revoked') throw new InvalidGrant('the refresh token was revoked');
    if (state === 'expired') throw new InvalidGrant('the refresh token expired');
    // RFC 9449 §5: a bound refresh token is used only with a proof of its key.
    if (stored.dpopJkt !== undefined) {
      if (dpop === undefined) throw new InvalidDpopProof('a DPoP proof is required: the refresh token is bound to a DPoP key');
      if (dpop.jkt !== stored.dpopJkt) throw new InvalidGrant('the DPoP proof key does not match the key the refresh token is bound to');
    }

    // RFC 6749 §6: the requested scope must not include any scope not originally granted.
    let scopes = stored.scopes;
    if (params.scope !== undefined) {
      const requested = parseScope(params.scope);
      if (requested === undefined || requested.length === 0) throw new InvalidScope('scope is malformed');
      const extra = scopesOutside(requested, stored.scopes);
      if (extra.length > 0) throw new InvalidScope(`scope exceeds what was granted: ${extra.map((s) => quoteInput(s)).join(' ')}`);
      scopes = requested;
    }

    const user = await deps.users.findById(stored.userId);
    if (user === undefined) throw new InvalidGrant('the user of this refresh token is disabled'); // config.yaml no longer declares them
    // RFC 9449 §11.1: the proof is single use; remembered only now that the refresh token checked out.
    await consumeProof();

    const rotate = isPublicClient(client) || client.profile !== 'fapi2' || deps.refresh.rotateFapi2;
    const tokens = await issueUserTokens(
      // The successor keeps the granted scope (narrowing applies to this access token) and the family's end.
      { client, user, grantId: stored.grantId, scopes, authTime: stored.authTime, sid: stored.sid, dpop, refreshExpiresAt: stored.expiresAt },
      deps,
      rotate,
    );
    const successor = tokens.refresh && { ...tokens.refresh, scopes: stored.scopes, dpopJkt: stored.dpopJkt ?? tokens.refresh.dpopJkt };
    const change = successor !== undefined ? { successor } : { idleExpiresAt: Math.min(stored.expiresAt, now + deps.refresh.idleTtl) };
    if (!(await deps.refreshTokens.use(digest, now, change, [tokens.issued]))) return reused(stored.grantId, stored.userId);

    deps.audit.record({ event: 'token.issued', clientId: client.clientId, userId: user.id, ip, userAgent, details: { grant_type: 'refresh_token', jti: tokens.issued.jti, rotated: rotate } });
    return tokens.response;

    async function reused(grantId: string, userId: string): Promise<never> {
      await deps.revocations.revokeGrant(grantId, now);
      deps.audit.record({ event: 'refresh_token.reused', clientId: client.clientId, userId, ip, userAgent, details: { grant_id: grantId, incident: true } });
      throw new InvalidGrant('the refresh token was already used; its grant is revoked');
    }
  },
};
