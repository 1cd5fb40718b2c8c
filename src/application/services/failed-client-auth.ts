import type { AuditLog } from '../ports/repositories.js';

/** Failed authentications written in full per client_id (or per IP when none was named) per minute. */
export const FAILED_AUTH_PER_KEY = 10;
/**
 * Failed authentications written in full per minute, all keys together: one a second shows what
 * a flood looks like; the summaries count the rest.
 */
export const FAILED_AUTH_PER_MINUTE = 60;
/** Summary events per minute (one per key that had more); the rest are added up in one more. */
export const FAILED_AUTH_SUMMARIES = 60;
/** Rows written per minute at most, whatever arrives (docs/audit.md turns it into bytes). */
export const FAILED_AUTH_ROWS_PER_MINUTE = FAILED_AUTH_PER_MINUTE + FAILED_AUTH_SUMMARIES + 1;
/** Keys counted at once (about 150 bytes each: 1.5 MB); beyond it the oldest key is let go. */
export const FAILED_AUTH_KEYS = 10_000;
/**
 * The client_id a caller named is unverified (it failed) and anyone can send a long one: it is
 * cut to this many characters (`details.client_id_truncated` then says so). It is stored in two
 * indexes, so every character counts twice more. Registered client_ids are rarely longer.
 */
export const FAILED_AUTH_CLIENT_ID_LENGTH = 64;
/** The User-Agent of these rows is cut shorter than other events' (256): an anonymous caller chooses it. */
export const FAILED_AUTH_USER_AGENT_LENGTH = 128;
const WINDOW_MS = 60_000;

/** A refused client authentication at /token, /par, /introspect or /revoke. */
export interface FailedClientAuthentication {
  /** The client_id the caller named, if any (never verified: it failed). */
  readonly clientId: string | undefined;
  /** The method presented: client_secret_basic, client_secret_post, private_key_jwt or none. */
  readonly method: string;
  /** The invalid_client error_description: never the secret or the assertion. */
  readonly reason: string;
  /** The endpoint's path. */
  readonly endpoint: string;
  readonly ip: string;
  readonly userAgent: string | undefined;
}

interface Count {
  readonly clientId: string | undefined;
  readonly truncated: boolean;
  ip: string;
  written: number;
  suppressed: number;
}

/**
 * Records failed client authentication (event `client.auth_failed`) without letting a caller
 * who holds no credential fill the disk: per minute (fixed windows), FAILED_AUTH_PER_KEY events
 * per key and FAILED_AUTH_PER_MINUTE overall are written in full; the others are counted and
 * written when the minute ends as one `client.auth_failed` per key with `details.suppressed`
 * (FAILED_AUTH_SUMMARIES of them, then one with the rest and no client). So at most
 * 60 + 60 + 1 = 121 rows a minute, whatever arrives, each of bounded size (the claimed client_id
 * and the user agent cut short); they are kept `audit.failed_auth_retention_days` (7) only
 * (src/infrastructure/sqlite/purge.ts). Memory is bounded by FAILED_AUTH_KEYS.
 */
export class FailedClientAuthLog {
  private window = -1;
  private readonly counts = new Map<string, Count>();
  private written = 0;
  /** Suppressed events of keys that were let go before their summary. */
  private orphaned = 0;
  private orphanedKeys = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly audit: AuditLog,
    /** Milliseconds since the epoch. */
    private readonly nowMs: () => number = Date.now,
  ) {}

  record(attempt: FailedClientAuthentication): void {
    const now = this.nowMs();
    const window = Math.floor(now / WINDOW_MS);
    if (window !== this.window) {
      this.flush();
      this.window = window;
    }
    const clientId = attempt.clientId?.slice(0, FAILED_AUTH_CLIENT_ID_LENGTH);
    const truncated = clientId !== attempt.clientId;
    // Names cut to the same characters count as one key: a caller gains nothing from long ones.
    const key = clientId === undefined ? `ip ${attempt.ip}` : `client ${clientId}`;
    let count = this.counts.get(key);
    if (count === undefined) {
      if (this.counts.size >= FAILED_AUTH_KEYS) this.letGoOldest();
      count = { clientId, truncated, ip: attempt.ip, written: 0, suppressed: 0 };
      this.counts.set(key, count);
    }
    count.ip = attempt.ip;
    if (count.written < FAILED_AUTH_PER_KEY && this.written < FAILED_AUTH_PER_MINUTE) {
      count.written++;
      this.written++;
      this.audit.record({
        event: 'client.auth_failed',
        clientId,
        ip: attempt.ip,
        userAgent: attempt.userAgent?.slice(0, FAILED_AUTH_USER_AGENT_LENGTH),
        details: { method: attempt.method, reason: attempt.reason, endpoint: attempt.endpoint, ...(truncated ? { client_id_truncated: true } : {}) },
      });
      return;
    }
    count.suppressed++;
    if (this.timer === undefined) {
      // The summary is written when the minute ends, even if nothing else arrives.
      this.timer = setTimeout(() => this.flush(), (window + 1) * WINDOW_MS - now);
      this.timer.unref();
    }
  }

  /** Writes the summaries of the current minute and starts afresh (also called on shutdown). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    let summaries = 0;
    let rest = this.orphaned;
    let restKeys = this.orphanedKeys;
    for (const count of this.counts.values()) {
      if (count.suppressed === 0) continue;
      if (summaries < FAILED_AUTH_SUMMARIES) {
        summaries++;
        this.audit.record({
          event: 'client.auth_failed',
          clientId: count.clientId,
          ip: count.ip,
          details: { suppressed: count.suppressed, window_start: new Date(this.window * WINDOW_MS).toISOString(), ...(count.truncated ? { client_id_truncated: true } : {}) },
        });
      } else {
        rest += count.suppressed;
        restKeys++;
      }
    }
    if (rest > 0) {
      this.audit.record({ event: 'client.auth_failed', details: { suppressed: rest, keys: restKeys, window_start: new Date(this.window * WINDOW_MS).toISOString() } });
    }
    this.counts.clear();
    this.written = 0;
    this.orphaned = 0;
    this.orphanedKeys = 0;
  }

  /** Map order is insertion order: the first key is the oldest; its count joins the summary of the rest. */
  private letGoOldest(): void {
    const oldest = this.counts.entries().next().value;
    if (oldest === undefined) return;
    this.counts.delete(oldest[0]);
    if (oldest[1].suppressed === 0) return;
    this.orphaned += oldest[1].suppressed;
    this.orphanedKeys++;
  }
}
