import { randomUUID } from 'node:crypto';
import { CompactSign, SignJWT } from 'jose';
import type { Client } from '../../domain/client.js';
import { atHash } from '../../protocol/token-hash.js';
import type { Clock } from '../ports/clock.js';
import type { KeyStore } from '../ports/key-store.js';

export interface TokenIssuerOptions {
  readonly issuer: string;
  readonly accessTokenTtl: number;
  readonly idTokenTtl: number;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly jti: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

const encoder = new TextEncoder();

/** Access tokens are always ES256-signed JWTs; ID tokens use the client's registered alg. */
const ACCESS_TOKEN_ALG = 'ES256';

/** Signs access tokens (RFC 9068) and ID tokens (OIDC Core §2) with cached keys. */
export class TokenIssuer {
  constructor(
    private readonly keys: KeyStore,
    private readonly clock: Clock,
    private readonly options: TokenIssuerOptions,
  ) {}

  /**
   * RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti, and scope; typ at+jwt.
   * Without an RFC 8707 resource, aud is the issuer itself: the token is for this
   * provider's own APIs (userinfo).
   */
  async accessToken(input: {
    client: Client;
    subject: string;
    scopes: readonly string[];
    audience?: readonly string[];
    authTime?: number;
    /** RFC 9449 §6.1: the DPoP key thumbprint the token is bound to (cnf.jkt). */
    jkt?: string | undefined;
    /** RFC 9068 §2.2.3.1: the subject's roles, for a client registered with roles_claim. */
    roles?: readonly string[] | undefined;
  }): Promise<IssuedAccessToken> {
    const key = this.keys.signingKey(ACCESS_TOKEN_ALG);
    const issuedAt = this.clock.now();
    const expiresAt = issuedAt + this.options.accessTokenTtl;
    const jti = randomUUID();
    const audience = input.audience && input.audience.length > 0 ? [...input.audience] : this.options.issuer;
    // The claims set is built here and signed with jose's CompactSign: SignJWT would validate and
    // deep-copy what this code has just built, a tenth of the token endpoint's own CPU (profile).
    const claims = {
      iss: this.options.issuer,
      sub: input.subject,
      aud: audience,
      iat: issuedAt,
      exp: expiresAt,
      jti,
      client_id: input.client.clientId,
      scope: input.scopes.join(' '),
      ...(input.authTime !== undefined ? { auth_time: input.authTime } : {}),
      ...(input.jkt !== undefined ? { cnf: { jkt: input.jkt } } : {}),
      ...(input.roles !== undefined ? { roles: input.roles } : {}),
    };
    const token = await new CompactSign(encoder.encode(JSON.stringify(claims))).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
    return { token, jti, issuedAt, expiresAt };
  }

  /** OIDC Core §2 and §3.1.3.6: the ID Token of the code flow, with at_hash. */
  async idToken(input: {
    client: Client;
    subject: string;
    authTime: number;
    nonce: string | undefined;
    /** OIDC Back-Channel Logout §2.4: the session the user logged in with. */
    sid?: string | undefined;
    accessToken: string;
    claims?: Record<string, unknown>;
  }): Promise<string> {
    const alg = input.client.idTokenSignedResponseAlg;
    const key = this.keys.signingKey(alg);
    const issuedAt = this.clock.now();
    return new SignJWT({
      ...input.claims,
      auth_time: input.authTime,
      azp: input.client.clientId,
      at_hash: atHash(input.accessToken, alg),
      ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
      ...(input.sid !== undefined ? { sid: input.sid } : {}),
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setSubject(input.subject)
      .setAudience(input.client.clientId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.options.idTokenTtl)
      .sign(key.privateKey);
  }
}
