import type { Client, GrantType } from '../../domain/client.js';
import type { DpopProof } from '../../protocol/dpop.js';
import type { RoleAccess } from '../services/role-access.js';
import type { TokenIssuer } from '../services/token-issuer.js';
import type { Clock } from '../ports/clock.js';
import type { AuditLog, AuthorizationCodeRepository, RefreshTokenRepository, TokenRevocations, UserRepository } from '../ports/repositories.js';

/** RFC 6749 §5.1 successful token response. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer' | 'DPoP';
  readonly expires_in: number;
  readonly scope: string;
  readonly id_token?: string;
  readonly refresh_token?: string;
}

export interface RefreshPolicy {
  /** Absolute lifetime of a refresh token family, seconds. */
  readonly ttl: number;
  /** A refresh token unused this long expires, seconds. */
  readonly idleTtl: number;
  /** FAPI 2.0 §5.3.2.1 advises no routine rotation for fapi2 confidential clients; true rotates them too. */
  readonly rotateFapi2: boolean;
}

export interface GrantDeps {
  readonly codes: AuthorizationCodeRepository;
  readonly refreshTokens: RefreshTokenRepository;
  readonly revocations: TokenRevocations;
  readonly users: UserRepository;
  readonly tokens: TokenIssuer;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly refresh: RefreshPolicy;
  /** What roles give clients (client_credentials) and users (the `roles` claim). */
  readonly roles: RoleAccess;
}

export interface GrantRequest {
  readonly client: Client;
  readonly params: Readonly<Record<string, string | undefined>>;
  /** RFC 8707 resource parameters (repeatable). */
  readonly resources: readonly string[];
  readonly ip: string;
  /** The User-Agent header, recorded with the IP (src/infrastructure/sqlite/audit-log.ts cuts it). */
  readonly userAgent?: string | undefined;
  /** The verified DPoP proof of the request (RFC 9449 §5), if it carried one: tokens get bound to its key. */
  readonly dpop: DpopProof | undefined;
  /**
   * Remembers `dpop`'s jti (RFC 9449 §11.1), throwing on a replay; nothing without a proof. Each
   * grant calls it once its own checks passed and before it issues anything: for a public client,
   * which anyone can act as, this is what keeps a flood of fresh proofs with bogus codes or
   * refresh tokens out of the replay cache (a confidential client's proof is remembered right
   * after authentication, and this does nothing).
   */
  readonly consumeProof: () => Promise<void>;
}

/** One grant type, one file: the shape node-oidc-provider's grants share. */
export interface Grant {
  readonly grantType: GrantType;
  handle(request: GrantRequest, deps: GrantDeps): Promise<TokenResponse>;
}
