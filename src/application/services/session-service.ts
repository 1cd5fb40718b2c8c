import type { Session } from '../../domain/session.js';
import { isSessionActive } from '../../domain/session.js';
import { randomToken, sha256 } from '../../protocol/random.js';
import type { Clock } from '../ports/clock.js';
import type { SessionRepository } from '../ports/repositories.js';

/** SSO sessions: the cookie holds 256 random bits; the store keeps only their SHA-256. */
export class SessionService {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly clock: Clock,
    private readonly ttl: number,
  ) {}

  /**
   * A new session with a fresh cookie value (no session fixation). `sid` continues the OIDC
   * session of the same user logging in again: its clients (kept by sid) stay with it.
   */
  async start(userId: string, sid: string = randomToken(16)): Promise<{ cookieValue: string; session: Session }> {
    const cookieValue = randomToken();
    const now = this.clock.now();
    const session: Session = { idDigest: sha256(cookieValue), userId, authTime: now, expiresAt: now + this.ttl, sid };
    await this.sessions.create(session);
    return { cookieValue, session };
  }

  async find(cookieValue: string | undefined): Promise<Session | undefined> {
    if (cookieValue === undefined || cookieValue.length !== 43) return undefined;
    const session = await this.sessions.find(sha256(cookieValue));
    return session && isSessionActive(session, this.clock.now()) ? session : undefined;
  }

  /** Ends the session; returns it only to the one call that ended it (see SessionRepository.end). */
  end(cookieValue: string): Promise<Session | undefined> {
    return this.sessions.end(sha256(cookieValue), this.clock.now());
  }

  /**
   * Ends sessions past their lifetime at `now` that were never ended, with the clients they logged
   * in to. `now` is the purge's: the one it deletes with, so none expires unseen in between.
   */
  endExpired(now: number, limit: number): Promise<Array<{ session: Session; clientIds: string[] }>> {
    return this.sessions.endExpired(now, limit);
  }

  clientsOf(sid: string): Promise<string[]> {
    return this.sessions.clientsOf(sid);
  }
}
