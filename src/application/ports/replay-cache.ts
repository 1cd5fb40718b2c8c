/**
 * Remembers single-use values until they expire: client-assertion jti, DPoP proof jti, used
 * authorization codes. In memory on one node (src/infrastructure/cache); a shared store
 * (Valkey SET NX EX) implements the same port for several nodes.
 */
export interface ReplayCache {
  /**
   * True the first time `key` is seen before `expiresAt` (seconds since the epoch), false on
   * reuse. Throws TemporarilyUnavailable when it cannot remember more (never forgets early).
   */
  firstUse(key: string, expiresAt: number): Promise<boolean>;
}
