import type { Logger } from 'pino';
import type { LogoutTokenSender } from '../application/ports/logout-notifier.js';
import { ConcurrencyLimit } from './concurrency-limit.js';

/** Each attempt may take this long. */
export const LOGOUT_TIMEOUT_MS = 5000;
/** Attempts in all, with a doubling pause between them (1 s, 2 s). */
export const LOGOUT_ATTEMPTS = 3;
/** Attempts in flight at once, for all relying parties: a purge may end 10 000 sessions in one go. */
export const LOGOUT_MAX_IN_FLIGHT = 16;
/**
 * Attempts waiting for their turn (each holds a signed token of about 1 KB); beyond, a logout token
 * is dropped with a warning. One purge tells at most EXPIRY_NOTICES_PER_PURGE (10 000) sessions.
 */
export const LOGOUT_MAX_WAITING = 10_000;
/**
 * How long a clean shutdown waits for logout tokens still queued or in flight: with 10 000 queued
 * for a relying party that does not answer, waiting for all would take hours. What is left is
 * logged and abandoned.
 */
export const LOGOUT_DRAIN_MS = 10_000;

class QueueFull extends Error {}

/**
 * POSTs logout_token to backchannel_logout_uri (OIDC Back-Channel Logout §2.5) with a timeout
 * and retries, in the background: the user's logout never waits for a relying party.
 */
export class HttpLogoutSender implements LogoutTokenSender {
  private readonly pending = new Set<Promise<void>>();
  private readonly limit: ConcurrencyLimit;
  private readonly pauseMs: number;

  /** `pauseMs` (the first pause between attempts) and `maxWaiting` are lowered in tests. */
  constructor(
    private readonly log: Logger,
    options: { readonly pauseMs?: number; readonly maxWaiting?: number } = {},
  ) {
    this.pauseMs = options.pauseMs ?? 1000;
    this.limit = new ConcurrencyLimit(LOGOUT_MAX_IN_FLIGHT, options.maxWaiting ?? LOGOUT_MAX_WAITING, () => new QueueFull());
  }

  send(uri: string, logoutToken: string, clientId: string): Promise<void> {
    const delivery = this.deliver(uri, logoutToken, clientId).finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
    return delivery;
  }

  /** Waits for deliveries queued or in flight (a clean shutdown), at most `deadlineMs`. */
  async drain(deadlineMs = LOGOUT_DRAIN_MS): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    const outcome = await Promise.race([Promise.allSettled([...this.pending]), deadline]);
    clearTimeout(timer);
    if (outcome === 'late') this.log.warn({ undelivered: this.pending.size }, 'shutting down with back-channel logout tokens undelivered');
  }

  private async deliver(uri: string, logoutToken: string, clientId: string): Promise<void> {
    for (let attempt = 1; attempt <= LOGOUT_ATTEMPTS; attempt++) {
      // Each attempt takes its turn in the queue; the pause between attempts holds no slot.
      let delivered: boolean;
      try {
        delivered = await this.limit.run(() => this.attempt(uri, logoutToken, clientId, attempt));
      } catch (error) {
        if (!(error instanceof QueueFull)) throw error;
        this.log.warn({ client_id: clientId, attempt }, 'back-channel logout dropped: too many waiting');
        return;
      }
      if (delivered) return;
      if (attempt < LOGOUT_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, this.pauseMs * 2 ** (attempt - 1)).unref());
    }
    this.log.error({ client_id: clientId }, 'back-channel logout gave up');
  }

  /** One POST; true when the relying party took it. Never throws. */
  private async attempt(uri: string, logoutToken: string, clientId: string, attempt: number): Promise<boolean> {
    try {
      const response = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: logoutToken }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(LOGOUT_TIMEOUT_MS),
      });
      await response.body?.cancel();
      // §2.8: 200 or 204 means the RP logged the session out.
      if (response.status === 200 || response.status === 204) return true;
      this.log.warn({ client_id: clientId, status: response.status, attempt }, 'back-channel logout refused');
    } catch (error) {
      this.log.warn({ client_id: clientId, attempt, reason: (error as Error).name }, 'back-channel logout failed');
    }
    return false;
  }
}
