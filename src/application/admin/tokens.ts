import type { Clock } from '../ports/clock.js';
import type { AuditLog, TokenRevocations } from '../ports/repositories.js';
import { recordChange, type Actor } from './changes.js';
import { InvalidField, NotFound } from './errors.js';
import { countsView, type CountsView, type EndedSessions, type UserLookup } from './users.js';

/** Whose tokens: exactly one of a client and a user. */
export interface RevokeTarget {
  readonly clientId?: string | undefined;
  /** The user's id or username (UserLookup). */
  readonly user?: string | undefined;
}

export type RevokedOwner = { readonly clientId: string } | { readonly userId: string };

export interface TokenAdminDeps {
  readonly revocations: TokenRevocations;
  readonly users: UserLookup;
  readonly ended: EndedSessions;
  readonly audit: AuditLog;
  readonly clock: Clock;
}

/**
 * Revokes every token of a client or of a user at once (an incident: a leaked secret, a stolen
 * laptop). A client's: its refresh tokens, its recorded access tokens, and its client_credentials
 * access tokens (not recorded: refused by their iat, see SqliteTokenRevocations.revokeAllOf) —
 * tokens it gets afterwards work, from the next second on. A user's: refresh tokens, recorded
 * access tokens and sessions (their clients are told by back-channel logout). The client or user
 * stays enabled: disable it to keep it out.
 */
export class TokenAdmin {
  constructor(private readonly deps: TokenAdminDeps) {}

  /** What was revoked, and whose: the client, or the user's id however it was named. */
  async revoke(actor: Actor, target: RevokeTarget): Promise<{ readonly owner: RevokedOwner; readonly counts: CountsView }> {
    const { clientId, user } = target;
    if (clientId !== undefined && user !== undefined) throw new InvalidField('user_id', 'must not be given together with client_id: revoke one at a time');
    if (clientId === undefined && user === undefined) throw new InvalidField('client_id', 'or user_id is required');
    const now = this.deps.clock.now();
    const owner = clientId !== undefined ? { clientId } : { userId: await this.userId(user!) };
    const counts = await this.deps.revocations.revokeAllOf(owner, now);
    if (counts === undefined) throw new NotFound(clientId !== undefined ? `client ${clientId}` : `user ${user!}`);
    if (counts.sessions > 0) await this.deps.ended.endExpired(now);
    const view = countsView(counts);
    recordChange(this.deps.audit, actor, 'tokens.revoked', owner, undefined, view);
    return { owner, counts: view };
  }

  private async userId(ref: string): Promise<string> {
    const user = await this.deps.users.lookup(ref);
    if (user === undefined) throw new NotFound(`user ${ref}`);
    return user.id;
  }
}
