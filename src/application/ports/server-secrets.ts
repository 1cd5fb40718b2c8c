/**
 * Secrets of the server itself (the DPoP nonce key), one per purpose and rotation epoch, shared
 * by every process on the same database: the first process to ask for an epoch creates its
 * secret, the others read the same bytes.
 */
export interface ServerSecrets {
  /**
   * The secrets of `purpose` for those of `epochs` that exist, after creating a random one for
   * each of `create` that does not (insert or ignore: processes starting together agree).
   */
  load(purpose: string, epochs: readonly number[], create: readonly number[]): Promise<ReadonlyMap<number, Buffer>>;
}
