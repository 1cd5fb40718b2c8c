import type { ParStore, PushedRequest } from '../../application/ports/par-store.js';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { ExpiringMap } from './expiring-map.js';

/** The single-node ParStore: at most `capacity` pushed requests, each until its expiry. */
export class MemoryParStore implements ParStore {
  private readonly pushed: ExpiringMap<PushedRequest>;

  constructor(capacity: number, now: () => number) {
    this.pushed = new ExpiringMap(capacity, now);
  }

  async save(handle: string, pushed: PushedRequest): Promise<void> {
    if (!this.pushed.set(handle, pushed, pushed.expiresAt)) {
      throw new TemporarilyUnavailable('too many pending pushed authorization requests; retry shortly');
    }
  }

  async find(handle: string): Promise<PushedRequest | undefined> {
    return this.pushed.get(handle);
  }

  async delete(handle: string): Promise<void> {
    this.pushed.delete(handle);
  }
}
