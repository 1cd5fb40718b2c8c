/** Clients beyond `metrics.client_labels` share this many labels, `other-0` … `other-15`. */
export const CLIENT_LABEL_BUCKETS = 16;

const BUCKET_LABELS = Array.from({ length: CLIENT_LABEL_BUCKETS }, (_, i) => `other-${i}`);

/**
 * The client_id label of a metric, bounded: the first `limit` distinct clients seen get their
 * own label, every later one one of CLIENT_LABEL_BUCKETS shared labels picked by a hash of its
 * client_id. So a deployment with thousands of agents (each a client_credentials client) has at
 * most `limit` + 16 client series per metric, while the usual handful of relying parties keep
 * their names. The hash is fixed (FNV-1a), so a bucketed client lands in the same bucket after a
 * restart and on every node; who is "first" is this process's order of first sight.
 * Memory: one Map entry per named client, `limit` at most (config allows 10 000).
 */
export class ClientLabels {
  private readonly named = new Map<string, string>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError('limit must be a whole number');
  }

  /** The label of `clientId`: itself while room remains (and ever after), else `other-<hash % 16>`. */
  of(clientId: string): string {
    const named = this.named.get(clientId);
    if (named !== undefined) return named;
    if (this.named.size < this.limit) {
      this.named.set(clientId, clientId);
      return clientId;
    }
    return BUCKET_LABELS[fnv1a(clientId) % CLIENT_LABEL_BUCKETS]!;
  }
}

/** 32-bit FNV-1a over the UTF-16 code units: cheap, stable across processes and releases. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
