import type { ParStore, PushedRequest } from '../../application/ports/par-store.js';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { ExpiringMap } from './expiring-map.js';

/** Pending requests by handle, and each client's handles (oldest first) to count its share. */
class PendingRequests extends ExpiringMap<PushedRequest> {
  readonly byClient = new Map<string, Set<string>>();

  protected override forget(key: string): void {
    const pushed = this.values.get(key);
    super.forget(key);
    if (pushed === undefined) return;
    const handles = this.byClient.get(pushed.clientId);
    handles?.delete(key);
    if (handles?.size === 0) this.byClient.delete(pushed.clientId);
  }
}

/**
 * The single-node ParStore: at most `capacity` pushed requests, each until its expiry, and at
 * most `perClient` of them from any one client, so that one client (the public ones need no
 * secret to push) cannot fill the store and lock the others out.
 */
export class MemoryParStore implements ParStore {
  private readonly pending: PendingRequests;

  constructor(
    capacity: number,
    now: () => number,
    private readonly perClient = Number.POSITIVE_INFINITY,
  ) {
    this.pending = new PendingRequests(capacity, now);
  }

  /** Pushed requests held, of which some may have expired and wait to be dropped (trusty_par_pending). */
  get size(): number {
    return this.pending.size;
  }

  async save(handle: string, pushed: PushedRequest, options: { readonly makeRoom?: boolean } = {}): Promise<void> {
    const mine = this.pending.byClient.get(pushed.clientId);
    if (mine !== undefined && mine.size >= this.perClient) {
      // Only a client at its share pays for this pass (at most perClient lookups): has() drops
      // its expired requests, wherever they sit in the store.
      for (const other of mine) this.pending.has(other);
      // The set keeps insertion order: its first handle is the client's oldest pending request.
      if (options.makeRoom === true && mine.size >= this.perClient) this.pending.delete(mine.values().next().value!);
      if (mine.size >= this.perClient) {
        throw new TemporarilyUnavailable('too many pending pushed authorization requests for this client; retry shortly');
      }
    }
    if (!this.pending.set(handle, pushed, pushed.expiresAt)) {
      throw new TemporarilyUnavailable('too many pending pushed authorization requests; retry shortly');
    }
    const handles = this.pending.byClient.get(pushed.clientId) ?? new Set<string>();
    handles.add(handle);
    this.pending.byClient.set(pushed.clientId, handles);
  }

  async find(handle: string): Promise<PushedRequest | undefined> {
    return this.pending.get(handle);
  }

  async delete(handle: string): Promise<void> {
    this.pending.delete(handle);
  }
}
