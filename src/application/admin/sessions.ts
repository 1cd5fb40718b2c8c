import type { Clock } from '../ports/clock.js';
import type { AuditLog, SessionPosition, SessionRepository } from '../ports/repositories.js';
import { recordChange, type Actor } from './changes.js';
import { InvalidField, NotFound } from './errors.js';
import { isoOf, pageSize, type Page } from './paging.js';
import type { EndedSessions, UserLookup } from './users.js';

/** A sid is 22 characters (16 random bytes, base64url); anything much longer is no sid. */
const SID_MAX = 128;

/** A live SSO session as reads show it. Times are ISO 8601. */
export interface SessionView {
  /** OIDC Back-Channel Logout `sid`, as in the ID tokens and logout tokens of the session. */
  readonly sid: string;
  readonly user_id: string;
  readonly auth_time: string;
  readonly expires_at: string;
  /** The clients the session logged in to: each with a backchannel_logout_uri is told when it ends. */
  readonly client_ids: readonly string[];
}

export interface SessionAdminDeps {
  readonly sessions: SessionRepository;
  readonly users: UserLookup;
  readonly ended: EndedSessions;
  readonly audit: AuditLog;
  readonly clock: Clock;
}

/** Users' SSO sessions through the control plane: listed, and ended one by one. */
export class SessionAdmin {
  constructor(private readonly deps: SessionAdminDeps) {}

  /** The live sessions of a user (config.yaml's or the API's; by id or username), newest first. */
  async list(userRef: string, query: { limit?: number | undefined; cursor?: string | undefined } = {}): Promise<Page<SessionView>> {
    const limit = pageSize(query.limit);
    const user = await this.deps.users.lookup(userRef);
    if (user === undefined) throw new NotFound(`user ${userRef}`);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const live = await this.deps.sessions.listLive(user.id, this.deps.clock.now(), limit + 1, after);
    const items = live.slice(0, limit).map(({ session, clientIds }) => ({
      sid: session.sid,
      user_id: session.userId,
      auth_time: isoOf(session.authTime)!,
      expires_at: isoOf(session.expiresAt)!,
      client_ids: clientIds,
    }));
    const last = live[limit - 1]?.session;
    return { items, next_cursor: live.length > limit && last !== undefined ? encodeCursor({ authTime: last.authTime, sid: last.sid }) : null };
  }

  /**
   * Ends the live session `sid`: the browser holding it is signed out, and each client it logged
   * in to with a backchannel_logout_uri gets a logout token (OIDC Back-Channel Logout §2.5), once.
   * Its tokens stay (revoke them with POST /tokens/revoke).
   */
  async revoke(actor: Actor, sid: string): Promise<void> {
    if (sid.length > SID_MAX) throw new InvalidField('sid', `must be at most ${SID_MAX} characters`);
    const now = this.deps.clock.now();
    const userId = await this.deps.sessions.expire(sid, now);
    if (userId === undefined) throw new NotFound(`live session ${sid}`);
    await this.deps.ended.endExpired(now);
    recordChange(this.deps.audit, actor, 'session.revoked', { userId }, undefined, { sid });
  }
}

/** An opaque cursor: the last session's auth_time and sid, base64url. */
function encodeCursor(position: SessionPosition): string {
  return Buffer.from(`${position.authTime}.${position.sid}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): SessionPosition {
  const text = cursor.length <= 300 && /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{1,128})$/.exec(text);
  if (match === null) throw new InvalidField('cursor', 'is not a next_cursor of this list');
  return { authTime: Number(match[1]), sid: match[2]! };
}
