import { isPublicClient, type Client } from '../../domain/client.js';
import type { RefreshToken } from '../../domain/refresh-token.js';
import { claimsForScopes } from '../../domain/scope.js';
import type { User } from '../../domain/user.js';
import type { DpopProof } from '../../protocol/dpop.js';
import { randomToken, sha256 } from '../../protocol/random.js';
import type { IssuedToken } from '../ports/repositories.js';
import type { GrantDeps, TokenResponse } from './grant.js';

export interface UserGrant {
  readonly client: Client;
  readonly user: User;
  readonly grantId: string;
  readonly scopes: readonly string[];
  readonly authTime: number;
  readonly sid: string | undefined;
  readonly nonce?: string | undefined;
  readonly dpop: DpopProof | undefined;
  /** The family's absolute end, carried over on rotation. */
  readonly refreshExpiresAt?: number;
}

export interface UserTokens {
  readonly response: TokenResponse;
  readonly issued: IssuedToken;
  readonly refresh: RefreshToken | undefined;
}

/** OIDC Core §11: a refresh token for offline_access, to clients registered for the refresh_token grant. */
export function wantsRefreshToken(client: Client, scopes: readonly string[]): boolean {
  return scopes.includes('offline_access') && client.grantTypes.includes('refresh_token');
}

/**
 * The tokens a user grant yields: a JWT access token (DPoP-bound with a proof), an ID token
 * with openid, and optionally a refresh token — bound to the DPoP key for public clients
 * (RFC 9449 §5: confidential clients' refresh tokens are bound by client authentication).
 */
export async function issueUserTokens(grant: UserGrant, deps: GrantDeps, withRefresh: boolean): Promise<UserTokens> {
  const { client, user, scopes, dpop } = grant;
  // RFC 9068 §2.2.3.1: the user's roles, for a client registered with roles_claim.
  const roles = client.rolesClaim === true ? deps.roles.ofUser(user.id) : undefined;
  const accessToken = await deps.tokens.accessToken({ client, subject: user.id, scopes, authTime: grant.authTime, jkt: dpop?.jkt, roles });
  const idToken = scopes.includes('openid')
    ? await deps.tokens.idToken({
        client,
        subject: user.id,
        authTime: grant.authTime,
        nonce: grant.nonce,
        sid: grant.sid,
        accessToken: accessToken.token,
        claims: claimsForScopes(scopes, user.claims),
      })
    : undefined;
  let refreshToken: string | undefined;
  let refresh: RefreshToken | undefined;
  if (withRefresh) {
    const now = deps.clock.now();
    const expiresAt = grant.refreshExpiresAt ?? now + deps.refresh.ttl;
    refreshToken = randomToken();
    refresh = {
      tokenDigest: sha256(refreshToken),
      grantId: grant.grantId,
      clientId: client.clientId,
      userId: user.id,
      scopes,
      authTime: grant.authTime,
      sid: grant.sid,
      dpopJkt: isPublicClient(client) ? dpop?.jkt : undefined,
      createdAt: now,
      expiresAt,
      idleExpiresAt: Math.min(expiresAt, now + deps.refresh.idleTtl),
      rotatedAt: undefined,
      revokedAt: undefined,
    };
  }
  const scope = scopes.join(' ');
  return {
    response: {
      access_token: accessToken.token,
      token_type: dpop === undefined ? 'Bearer' : 'DPoP',
      expires_in: accessToken.expiresAt - accessToken.issuedAt,
      scope,
      ...(idToken !== undefined ? { id_token: idToken } : {}),
      ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
    },
    issued: {
      jti: accessToken.jti,
      kind: 'access_token',
      grantId: grant.grantId,
      clientId: client.clientId,
      userId: user.id,
      scope,
      createdAt: accessToken.issuedAt,
      expiresAt: accessToken.expiresAt,
    },
    refresh,
  };
}
