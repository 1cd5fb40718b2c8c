/**
 * Whose budget a remembered value counts against: the client that authenticated (or, at a
 * resource, the client the access token was issued to). Values are remembered only once the
 * owner is known, so an unauthenticated caller cannot fill what legitimate clients need.
 */
export interface ReplayOwner {
  readonly clientId: string;
  /** A public client (token_endpoint_auth_method none) can be used by anyone: it gets a smaller share. */
  readonly isPublic: boolean;
  /**
   * At its share, forget this owner's oldest value instead of refusing: only for values whose
   * replay achieves nothing (a public client's proofs at /par, see http/routes/par.ts), so that
   * a flood through a client anyone can act as never refuses its users.
   */
  readonly forgetOldestWhenFull?: boolean;
}

/**
 * Remembers single-use values until they expire: client-assertion jti, DPoP proof jti. In memory
 * on one node (src/infrastructure/cache); a shared store (Valkey SET NX EX) implements the same
 * port for several nodes.
 */
export interface ReplayCache {
  /**
   * True the first time `key` is seen for `owner` before `expiresAt` (seconds since the epoch),
   * false on reuse. Throws TemporarilyUnavailable when it cannot remember more for this owner or
   * overall (never forgets early, but for an owner with forgetOldestWhenFull).
   * @param outlivesFrom the value's anchor, when it was accepted while its anchor is still in the
   *   future (src/protocol/replay-window.ts): a cache that forgets on restart stores it as a
   *   watermark, synchronously, before this resolves; the next process refuses every value whose
   *   anchor is at or before it
   */
  firstUse(owner: ReplayOwner, key: string, expiresAt: number, outlivesFrom?: number): Promise<boolean>;
  /**
   * The whole second (seconds since the epoch) since which every first use has been remembered:
   * for a memory cache, the second the process started or the previous process's watermark,
   * whichever is later; -Infinity for a store that outlives processes. A value whose anchor is at or before it may have been used by the previous
   * process and is refused (src/protocol/replay-window.ts; RFC 7523 §3 (7), RFC 9449 §11.1).
   */
  remembersSince(): number;
}
