import type { Logger } from 'pino';
import type { LogoutTokenSender } from '../application/ports/logout-notifier.js';

/** Each attempt may take this long. */
export const LOGOUT_TIMEOUT_MS = 5000;
/** Attempts in all, with a doubling pause between them (1 s, 2 s). */
export const LOGOUT_ATTEMPTS = 3;

/**
 * POSTs logout_token to backchannel_logout_uri (OIDC Back-Channel Logout §2.5) with a timeout
 * and retries, in the background: the user's logout never waits for a relying party.
 */
export class HttpLogoutSender implements LogoutTokenSender {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly log: Logger,
    private readonly pauseMs = 1000,
  ) {}

  send(uri: string, logoutToken: string, clientId: string): Promise<void> {
    const delivery = this.deliver(uri, logoutToken, clientId).finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
    return delivery;
  }

  /** Waits for deliveries in flight (a clean shutdown); each is bounded by its timeouts. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private async deliver(uri: string, logoutToken: string, clientId: string): Promise<void> {
    for (let attempt = 1; attempt <= LOGOUT_ATTEMPTS; attempt++) {
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
        if (response.status === 200 || response.status === 204) return;
        this.log.warn({ client_id: clientId, status: response.status, attempt }, 'back-channel logout refused');
      } catch (error) {
        this.log.warn({ client_id: clientId, attempt, reason: (error as Error).name }, 'back-channel logout failed');
      }
      if (attempt < LOGOUT_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, this.pauseMs * 2 ** (attempt - 1)).unref());
    }
    this.log.error({ client_id: clientId }, 'back-channel logout gave up');
  }
}
