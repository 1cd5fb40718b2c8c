/** Server-provided DPoP nonces (RFC 9449 §8 and §9), rotated over time. */
export interface DpopNonces {
  /** The nonce to hand out now (DPoP-Nonce header). */
  current(): string;
  /** True for the current nonce and the one before it (a client may hold the previous one). */
  isValid(nonce: string): boolean;
}
