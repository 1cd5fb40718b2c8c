import { InvalidDpopProof, InvalidGrant, InvalidRequest } from '../../protocol/errors.js';
import { verifyCodeVerifier } from '../../protocol/pkce.js';
import { sha256 } from '../../protocol/random.js';
import type { Grant } from './grant.js';
import { issueUserTokens, wantsRefreshToken } from './user-tokens.js';

const MAX_CODE_LENGTH = 256;

/**
 * grant_type=authorization_code (RFC 6749 §4.1.3, OIDC Core §3.1.3, RFC 7636 §4.5).
 * The code is bound to the client, the redirect_uri and the PKCE challenge, lives at most
 * 60 s and is consumed atomically with the record of the tokens issued from it.
 */
export const authorizationCodeGrant: Grant = {
  grantType: 'authorization_code',

  async handle({ client, params, ip, userAgent, dpop, consumeProof }, deps) {
    const { code, redirect_uri: redirectUri, code_verifier: codeVerifier } = params;
    if (code === undefined) throw new InvalidRequest('code is required');
    // OIDC Core §3.1.2.1 made redirect_uri required at /auth, so RFC 6749 §4.1.3 requires it here.
    if (redirectUri === undefined) throw new InvalidRequest('redirect_uri is required');
    if (code.length > MAX_CODE_LENGTH) throw new InvalidGrant('the authorization code is invalid');

    const now = deps.clock.now();
    const codeDigest = sha256(code);
    const stored = await deps.codes.find(codeDigest);
    if (stored === undefined) throw new InvalidGrant('the authorization code is invalid');
    // RFC 6749 §4.1.3: the code must have been issued to the caller — checked before the replay
    // branch, so that only that client's replay revokes the grant (§4.1.2).
    if (stored.clientId !== client.clientId) throw new InvalidGrant('the authorization code was issued to another client');
    if (stored.consumedAt !== undefined) return replayed(stored.grantId, stored.userId);
    if (stored.expiresAt <= now) throw new InvalidGrant('the authorization code expired');
    // RFC 6749 §4.1.3: identical to the redirect_uri of the authorization request.
    if (stored.redirectUri !== redirectUri) throw new InvalidGrant('redirect_uri does not match the authorization request');
    verifyCodeVerifier(codeVerifier, stored.codeChallenge);
    // RFC 9449 §10: a code bound to a DPoP key is redeemed only with a proof of that key.
    if (stored.dpopJkt !== undefined) {
      if (dpop === undefined) throw new InvalidDpopProof('a DPoP proof is required: the authorization code is bound to a DPoP key');
      if (dpop.jkt !== stored.dpopJkt) throw new InvalidGrant('the DPoP proof key does not match the key the authorization code is bound to');
    }

    const user = await deps.users.findById(stored.userId);
    if (user === undefined) throw new InvalidGrant('the user of this authorization code no longer exists');
    // RFC 9449 §11.1: the proof is single use; remembered only now that the code checked out.
    await consumeProof();

    const tokens = await issueUserTokens(
      { client, user, grantId: stored.grantId, scopes: stored.scopes, authTime: stored.authTime, sid: stored.sid, nonce: stored.nonce, dpop },
      deps,
      wantsRefreshToken(client, stored.scopes),
    );
    const consumed = await deps.codes.consume(codeDigest, now, [tokens.issued], tokens.refresh);
    // Another request won the race for this code, or it expired meanwhile.
    if (!consumed) return replayed(stored.grantId, stored.userId);

    deps.audit.record({ event: 'token.issued', clientId: client.clientId, userId: user.id, ip, userAgent, details: { grant_type: 'authorization_code', jti: tokens.issued.jti } });
    return tokens.response;

    /** RFC 6749 §4.1.2: a code used twice is refused, and what its first use issued is revoked. */
    async function replayed(grantId: string, userId: string): Promise<never> {
      await deps.revocations.revokeGrant(grantId, now);
      deps.audit.record({ event: 'code.replayed', clientId: client.clientId, userId, ip, userAgent, details: { grant_id: grantId } });
      throw new InvalidGrant('the authorization code was already used');
    }
  },
};
