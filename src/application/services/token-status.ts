import { SignJWT } from 'jose';
import { isPublicClient, type Client } from '../../domain/client.js';
import { mayIntrospectAccessToken, RESOURCE_SERVER_ONLY_INTROSPECTS } from '../../domain/introspection.js';
import { refreshTokenState, type RefreshToken } from '../../domain/refresh-token.js';
import { InvalidClient, InvalidToken, UnauthorizedClient } from '../../protocol/errors.js';
import { sha256 } from '../../protocol/random.js';
import type { Clock } from '../ports/clock.js';
import type { KeyStore } from '../ports/key-store.js';
import type { AuditLog, RefreshTokenRepository, TokenRevocations } from '../ports/repositories.js';
import type { AccessTokenClaims, AccessTokenVerifier } from './access-token-verifier.js';

const MAX_TOKEN_LENGTH = 8192;
/** RFC 9701 §5: the media type of a signed introspection response. */
export const INTROSPECTION_JWT_TYPE = 'token-introspection+jwt';

export interface TokenStatusDeps {
  readonly issuer: string;
  readonly accessTokens: AccessTokenVerifier;
  readonly refreshTokens: RefreshTokenRepository;
  readonly revocations: TokenRevocations;
  readonly keys: KeyStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
}

type Found = { kind: 'access_token'; claims: AccessTokenClaims } | { kind: 'refresh_token'; token: RefreshToken };

/** Revocation (RFC 7009) and introspection (RFC 7662, RFC 9701) of the tokens this server issued. */
export class TokenStatus {
  constructor(private readonly deps: TokenStatusDeps) {}

  /**
   * RFC 7009 §2.1: only the client the token was issued to may revoke it; a refresh token takes
   * its whole grant with it (and the access tokens issued from it); unknown tokens are fine.
   */
  async revoke(client: Client, token: string, ip: string, userAgent?: string): Promise<void> {
    if (client.resourceServer) throw new UnauthorizedClient(RESOURCE_SERVER_ONLY_INTROSPECTS);
    const found = await this.find(token);
    if (found === undefined) return;
    const owner = found.kind === 'access_token' ? found.claims.clientId : found.token.clientId;
    if (owner !== client.clientId) throw new UnauthorizedClient('the token was not issued to this client');
    const now = this.deps.clock.now();
    if (found.kind === 'access_token') {
      await this.deps.revocations.revokeAccessToken(found.claims.jti, found.claims.exp, now);
      this.deps.audit.record({ event: 'token.revoked', clientId: client.clientId, ip, userAgent, details: { kind: 'access_token', jti: found.claims.jti } });
    } else {
      await this.deps.revocations.revokeGrant(found.token.grantId, now);
      this.deps.audit.record({ event: 'token.revoked', clientId: client.clientId, userId: found.token.userId, ip, userAgent, details: { kind: 'refresh_token', grant_id: found.token.grantId } });
    }
  }

  /**
   * RFC 7662 §2.2 and §4. An access token is shown to the client it was issued to, to a client
   * named in its aud, and to a resource server registered for one of its audiences
   * (domain/introspection.ts); a refresh token only to the client it was issued to. Everyone
   * else learns `active: false`, also in signed responses (RFC 9701), which sign this answer.
   */
  async introspect(client: Client, token: string): Promise<Record<string, unknown>> {
    if (isPublicClient(client)) throw new InvalidClient('public clients may not use the introspection endpoint');
    const found = await this.find(token);
    if (found === undefined) return { active: false };
    if (found.kind === 'refresh_token') {
      if (found.token.clientId !== client.clientId) return { active: false };
      const t = found.token;
      return { active: true, iss: this.deps.issuer, client_id: t.clientId, sub: t.userId, scope: t.scopes.join(' '), iat: t.createdAt, exp: Math.min(t.expiresAt, t.idleExpiresAt) };
    }
    const { payload, jkt } = found.claims;
    if (!mayIntrospectAccessToken(client, { clientId: found.claims.clientId, aud: payload.aud })) return { active: false };
    return {
      active: true,
      iss: payload.iss,
      client_id: payload.client_id,
      sub: payload.sub,
      aud: payload.aud,
      scope: payload.scope,
      exp: payload.exp,
      iat: payload.iat,
      ...(payload.nbf !== undefined ? { nbf: payload.nbf } : {}),
      jti: payload.jti,
      ...(payload.auth_time !== undefined ? { auth_time: payload.auth_time } : {}),
      token_type: jkt === undefined ? 'Bearer' : 'DPoP',
      ...(jkt !== undefined ? { cnf: { jkt } } : {}),
    };
  }

  /** RFC 9701 §5: the introspection response as a JWT signed for the calling client. */
  async signIntrospection(client: Client, response: Record<string, unknown>): Promise<string> {
    const key = this.deps.keys.signingKey(client.introspectionSignedResponseAlg);
    return new SignJWT({ token_introspection: response })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: INTROSPECTION_JWT_TYPE })
      .setIssuer(this.deps.issuer)
      .setAudience(client.clientId)
      .setIssuedAt(this.deps.clock.now())
      .sign(key.privateKey);
  }

  /**
   * Access tokens are JWTs and refresh tokens opaque handles, so the token's shape says which
   * it is: token_type_hint (only a hint, RFC 7009 §2.1, RFC 7662 §2.1) is not needed.
   */
  private async find(token: string): Promise<Found | undefined> {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    if (token.split('.').length === 3) {
      try {
        return { kind: 'access_token', claims: await this.deps.accessTokens.verify(token, null) };
      } catch (error) {
        if (error instanceof InvalidToken) return undefined;
        throw error;
      }
    }
    const stored = await this.deps.refreshTokens.find(sha256(token));
    return stored !== undefined && refreshTokenState(stored, this.deps.clock.now()) === 'active' ? { kind: 'refresh_token', token: stored } : undefined;
  }
}
