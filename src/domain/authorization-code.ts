/** An issued authorization code; only its digest is stored. */
export interface AuthorizationCode {
  readonly codeDigest: string;
  /** Ties the code to the tokens issued from it (revocation on replay). */
  readonly grantId: string;
  readonly clientId: string;
  readonly userId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly codeChallenge: string;
  readonly nonce: string | undefined;
  /** RFC 9449 §10: only a DPoP proof with this key thumbprint may redeem the code. */
  readonly dpopJkt: string | undefined;
  /** The SSO session's sid, carried into the id_token (Back-Channel Logout §2.4). */
  readonly sid: string | undefined;
  readonly authTime: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly consumedAt: number | undefined;
}
