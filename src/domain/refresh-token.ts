/** A refresh token (RFC 6749 §1.5, §6); only its digest is stored. */
export interface RefreshToken {
  readonly tokenDigest: string;
  /** The family: the code's grant and every token rotated from it. */
  readonly grantId: string;
  readonly clientId: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly authTime: number;
  readonly sid: string | undefined;
  /** RFC 9449 §5: set when the token is bound to a DPoP key (public clients). */
  readonly dpopJkt: string | undefined;
  readonly createdAt: number;
  /** The family's absolute end. */
  readonly expiresAt: number;
  /** Ends earlier if not used by then. */
  readonly idleExpiresAt: number;
  readonly rotatedAt: number | undefined;
  readonly revokedAt: number | undefined;
}

export type RefreshTokenState = 'active' | 'expired' | 'rotated' | 'revoked';

export function refreshTokenState(token: RefreshToken, now: number): RefreshTokenState {
  if (token.revokedAt !== undefined) return 'revoked';
  if (token.rotatedAt !== undefined) return 'rotated';
  if (token.expiresAt <= now || token.idleExpiresAt <= now) return 'expired';
  return 'active';
}
