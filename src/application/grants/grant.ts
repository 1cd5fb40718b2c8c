import type { Client, GrantType } from '../../domain/client.js';
import type { DpopProof } from '../../protocol/dpop.js';
import type { TokenIssuer } from '../services/token-issuer.js';
import type { Clock } from '../ports/clock.js';
import type { AuditLog, AuthorizationCodeRepository, UserRepository } from '../ports/repositories.js';

/** RFC 6749 §5.1 successful token response. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer' | 'DPoP';
  readonly expires_in: number;
  readonly scope: string;
  readonly id_token?: string;
  readonly refresh_token?: string;
}

export interface GrantDeps {
  readonly codes: AuthorizationCodeRepository;
  readonly users: UserRepository;
  readonly tokens: TokenIssuer;
  readonly audit: AuditLog;
  readonly clock: Clock;
}

export interface GrantRequest {
  readonly client: Client;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly ip: string;
  /** The verified DPoP proof of the request (RFC 9449 §5), if it carried one: tokens get bound to its key. */
  readonly dpop: DpopProof | undefined;
}

/** One grant type, one file: the shape node-oidc-provider's grants share. */
export interface Grant {
  readonly grantType: GrantType;
  handle(request: GrantRequest, deps: GrantDeps): Promise<TokenResponse>;
}
