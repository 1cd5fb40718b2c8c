import { randomUUID } from 'node:crypto';
import { GENERATED_PASSWORD_BYTES, USERNAME_MAX_LENGTH, type UserRecord, type UserSource } from '../../domain/user.js';
import { randomToken } from '../../protocol/random.js';
import type { Checked } from '../ports/client-entries.js';
import type { Clock } from '../ports/clock.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { AuditLog, RevokedCounts, UserRepository } from '../ports/repositories.js';
import { NOT_LOCKED, type AccountLockout, type LockoutStatus } from '../services/account-lockout.js';
import { recordChange, type Actor } from './changes.js';
import { Conflict, InvalidField, NotFound } from './errors.js';
import { decodeKeyCursor, encodeKeyCursor, isoOf, pageSize, type Page } from './paging.js';

/** Longest username prefix filter: a username's length. */
const PREFIX_MAX = USERNAME_MAX_LENGTH;

/** A user entry checked: config.yaml's fields, the password perhaps left to be generated. */
export interface NewUserEntry {
  readonly username: string;
  readonly password?: string | undefined;
  readonly claims: Record<string, unknown>;
}

/**
 * config.yaml's user rules for the control plane (implemented with the same zod schema,
 * src/config/user-api.ts), so the management API and the CLI accept exactly what the file would.
 */
export interface UserEntryRules {
  check(entry: unknown): Checked<NewUserEntry>;
  checkClaims(claims: unknown): Checked<Record<string, unknown>>;
  checkPassword(password: unknown): Checked<string>;
}

/** Back-channel logout for sessions made to expire (LogoutService.endExpired). */
export interface EndedSessions {
  /** Ends the sessions expired at `now` and tells their clients, once; returns how many. */
  endExpired(now: number): Promise<number>;
}

/** A user as reads show it: never the password or its hash. Times are ISO 8601. */
export interface UserView {
  readonly id: string;
  readonly username: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly source: UserSource;
  readonly enabled: boolean;
  readonly created_at: string;
  readonly updated_at: string;
  /** Failed logins in a row that still count (docs/lockout.md); 0 after a success, an unlock or a password reset. */
  readonly failed_logins: number;
  /** Until when logins are refused after too many failures (ISO 8601), or null. */
  readonly locked_until: string | null;
}

/** What a write answers: the user and, when the server generated one, the password (shown this once). */
export type UserWithPassword = UserView & { readonly password?: string };

/** How services that take a user find it: by id (`sub`), else by username (UserAdmin.lookup). */
export interface UserLookup {
  lookup(ref: string): Promise<UserView | undefined>;
}

export interface UserListQuery {
  /** 1–200, default 50. */
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
  readonly source?: UserSource | undefined;
  readonly enabled?: boolean | undefined;
  readonly usernamePrefix?: string | undefined;
}

export interface UserAdminDeps {
  readonly users: UserRepository;
  readonly rules: UserEntryRules;
  readonly passwords: PasswordHasher;
  readonly sessions: EndedSessions;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly lockout: Pick<AccountLockout, 'status' | 'statuses' | 'unlock'>;
}

/**
 * End-users through the control plane (the management API and the CLI). Users from config.yaml
 * may be read, not changed: the file owns them. Every change is audited with before and after
 * (never a password or hash) and recorded as a control change, so every process drops its user
 * caches. Disabling a user, or giving it a new password, ends its sessions (their clients get a
 * back-channel logout token), refresh tokens and recorded access tokens at once.
 */
export class UserAdmin implements UserLookup {
  constructor(private readonly deps: UserAdminDeps) {}

  async list(query: UserListQuery = {}): Promise<Page<UserView>> {
    const limit = pageSize(query.limit);
    if (query.usernamePrefix !== undefined && query.usernamePrefix.length > PREFIX_MAX) {
      throw new InvalidField('username_prefix', `must be at most ${PREFIX_MAX} characters`);
    }
    const filter = { source: query.source, enabled: query.enabled, usernamePrefix: query.usernamePrefix };
    // The cursor is the last username of the page.
    const after = query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor, (username) => username.length <= USERNAME_MAX_LENGTH);
    const records = await this.deps.users.list(filter, limit + 1, after);
    const items = records.slice(0, limit);
    const lockouts = await this.deps.lockout.statuses(items.map((record) => record.id));
    return { items: items.map((record) => viewOf(record, lockoutView(lockouts.get(record.id)))), next_cursor: records.length > limit ? encodeKeyCursor(items.at(-1)!.username) : null };
  }

  /** Any user, disabled ones too, by id or username (`lookup`). */
  async get(ref: string): Promise<UserView> {
    return this.view(await this.find(ref));
  }

  /**
   * How every API and CLI place names a user: by id (`sub`), else by username — the id first, so
   * a username that happens to be another user's id never hides that user (docs/users.md).
   */
  async lookup(ref: string): Promise<UserView | undefined> {
    const record = await this.recordOf(ref);
    return record && this.view(record);
  }

  /** A new user owned by the API; without a password, a generated one is returned once. */
  async create(actor: Actor, entry: unknown): Promise<UserWithPassword> {
    const checked = this.checked(this.deps.rules.check(entry));
    const generated = checked.password === undefined ? randomToken(GENERATED_PASSWORD_BYTES) : undefined;
    const passwordHash = await this.deps.passwords.hash(checked.password ?? generated!);
    const id = randomUUID();
    if (!(await this.deps.users.create({ id, username: checked.username, passwordHash, claims: checked.claims }))) {
      throw new Conflict(`username ${checked.username} is taken`);
    }
    const view = viewOf(await this.find(id), lockoutView());
    recordChange(this.deps.audit, actor, 'user.created', { userId: id }, undefined, view);
    return generated === undefined ? view : { ...view, password: generated };
  }

  /**
   * RFC 7396 merge patch of the claims (null removes one); the result is checked as config.yaml's
   * are. Merged with the claims as stored inside the write's transaction: concurrent patches all land.
   */
  async updateClaims(actor: Actor, ref: string, patch: unknown): Promise<UserView> {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new InvalidField('claims', 'must be a JSON object');
    const { id } = await this.writable(ref);
    const changed = await this.deps.users.updateClaims(id, (user) => {
      const merged: Record<string, unknown> = { ...user.claims };
      for (const [name, value] of Object.entries(patch)) {
        if (value === null) delete merged[name];
        else merged[name] = value;
      }
      return this.checked(this.deps.rules.checkClaims(merged));
    });
    if (changed === undefined) throw new NotFound(`user ${ref}`);
    const lockout = lockoutView(await this.deps.lockout.status(id));
    const view = viewOf(changed.after, lockout);
    recordChange(this.deps.audit, actor, 'user.updated', { userId: id }, viewOf(changed.before, lockout), view);
    return view;
  }

  /**
   * The user can no longer log in; its sessions end (their clients are told), its refresh tokens
   * and recorded access tokens are revoked, and its access tokens introspect inactive. Disabling a
   * disabled user changes nothing.
   */
  async disable(actor: Actor, ref: string): Promise<UserView & { readonly ended: CountsView }> {
    const before = await this.writable(ref);
    const id = before.id;
    const ended = before.enabled ? await this.deps.users.disable(id) : undefined;
    if (ended !== undefined) await this.deps.sessions.endExpired(this.deps.clock.now());
    const after = await this.view(await this.find(id));
    const counts = countsView(ended ?? { refreshTokens: 0, accessTokens: 0, sessions: 0 });
    if (ended !== undefined) recordChange(this.deps.audit, actor, 'user.disabled', { userId: id }, viewOf(before, after), { ...after, ended: counts });
    return { ...after, ended: counts };
  }

  /** The user may log in again; nothing it had before comes back. */
  async enable(actor: Actor, ref: string): Promise<UserView> {
    const before = await this.writable(ref);
    const id = before.id;
    const changed = !before.enabled && (await this.deps.users.enable(id));
    const after = await this.view(await this.find(id));
    if (changed) recordChange(this.deps.audit, actor, 'user.enabled', { userId: id }, viewOf(before, after), after);
    return after;
  }

  /**
   * A new password (a generated one, returned once, when none is given). Whoever knew the old one
   * may have signed in with it: the user's sessions end (their clients are told), its refresh
   * tokens and recorded access tokens are revoked. Failed logins counted against the old password
   * no longer say anything: its lockout is lifted too (docs/lockout.md).
   */
  async resetPassword(actor: Actor, ref: string, password?: unknown): Promise<UserWithPassword & { readonly ended: CountsView }> {
    const chosen = password === undefined ? undefined : this.checked(this.deps.rules.checkPassword(password));
    const { id } = await this.writable(ref);
    const generated = chosen === undefined ? randomToken(GENERATED_PASSWORD_BYTES) : undefined;
    const ended = await this.deps.users.setPassword(id, await this.deps.passwords.hash(chosen ?? generated!));
    if (ended === undefined) throw new NotFound(`user ${id}`);
    await this.deps.lockout.unlock(id);
    await this.deps.sessions.endExpired(this.deps.clock.now());
    const after = await this.view(await this.find(id));
    recordChange(this.deps.audit, actor, 'user.password_reset', { userId: id }, undefined, { ended: countsView(ended), generated: generated !== undefined });
    return { ...after, ...(generated !== undefined ? { password: generated } : {}), ended: countsView(ended) };
  }

  /**
   * Lifts a lock, or the waits, that failed logins put on the account (docs/lockout.md): its next
   * login is checked at once. Any user, config.yaml's too (the file does not own this state).
   * Audited as user.unlocked when there was something to lift.
   */
  async unlock(actor: Actor, ref: string): Promise<UserView> {
    const record = await this.find(ref);
    const before = await this.deps.lockout.unlock(record.id);
    const after = viewOf(record, lockoutView());
    if (before.failures > 0) {
      recordChange(this.deps.audit, actor, 'user.unlocked', { userId: record.id }, lockoutView(before), lockoutView());
    }
    return after;
  }

  /** A record with its lockout status, read now. */
  private async view(record: UserRecord): Promise<UserView> {
    return viewOf(record, lockoutView(await this.deps.lockout.status(record.id)));
  }

  /** The one rule of `lookup`: by id, else by username. */
  private async recordOf(ref: string): Promise<UserRecord | undefined> {
    return (await this.deps.users.findRecord(ref)) ?? (await this.deps.users.findRecordByUsername(ref));
  }

  private async find(ref: string): Promise<UserRecord> {
    const record = await this.recordOf(ref);
    if (record === undefined) throw new NotFound(`user ${ref}`);
    return record;
  }

  /** config.yaml owns its users (issue 13 item 2). */
  private async writable(ref: string): Promise<UserRecord> {
    const record = await this.find(ref);
    if (record.source === 'config') throw new Conflict(`user ${record.username} is declared in config.yaml; change it there`);
    return record;
  }

  private checked<T>(result: Checked<T>): T {
    if (!result.ok) throw new InvalidField(result.field, result.message);
    return result.value;
  }
}

/** A record as shown, with its lockout members (lockoutView of the status read with it). */
export function viewOf(record: UserRecord, lockout: LockoutView): UserView {
  return {
    id: record.id,
    username: record.username,
    claims: record.claims,
    source: record.source,
    enabled: record.enabled,
    created_at: isoOf(record.createdAt)!,
    updated_at: isoOf(record.updatedAt)!,
    failed_logins: lockout.failed_logins,
    locked_until: lockout.locked_until,
  };
}

type LockoutView = Pick<UserView, 'failed_logins' | 'locked_until'>;

function lockoutView(status: LockoutStatus = NOT_LOCKED): LockoutView {
  return { failed_logins: status.failures, locked_until: status.lockedUntil === undefined ? null : new Date(status.lockedUntil).toISOString() };
}

/** What a revocation ended, in wire names. */
export interface CountsView {
  readonly refresh_tokens: number;
  readonly access_tokens: number;
  readonly sessions: number;
}

export function countsView(counts: RevokedCounts): CountsView {
  return { refresh_tokens: counts.refreshTokens, access_tokens: counts.accessTokens, sessions: counts.sessions };
}
