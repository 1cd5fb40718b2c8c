import type { AuthorizationCode } from '../../domain/authorization-code.js';
import type { Interaction } from '../../domain/authorization-request.js';
import type { Client, GrantType } from '../../domain/client.js';
import type { RefreshToken } from '../../domain/refresh-token.js';
import type { Session } from '../../domain/session.js';
import type { User, UserRecord, UserSource } from '../../domain/user.js';

/**
 * Storage ports. SQLite implements them (src/infrastructure/sqlite); a shared engine
 * (PostgreSQL) can implement them for several nodes.
 */
/**
 * Who owns a stored client or user: `config` rows are config.yaml's (the seed disables those the
 * file no longer declares); rows of any other source (the management API's, later) the file never
 * touches.
 */
export type RecordSource = 'config' | 'api';

/** What an upsert did; `enabled` means a disabled row was declared again (and maybe changed). */
export type UpsertOutcome = 'created' | 'updated' | 'unchanged' | 'enabled';

/**
 * Disabled clients and users keep their rows (audit, stable ids) but are invisible to the
 * protocol: the finders below return enabled ones only. Disabling one also ends what it was
 * granted (refresh tokens, access tokens, sessions), so enabling it again revives none of it.
 */
export interface ClientRepository {
  /** An enabled client (perhaps expired: see isExpired). */
  findById(clientId: string): Promise<Client | undefined>;
  /** The enabled clients. */
  list(): Promise<Client[]>;
  /**
   * Creates or updates by client_id a row of `source`, enabling it if it was disabled; `taken`
   * (nothing written) when a row of another source holds the client_id.
   */
  upsert(client: Client, source: RecordSource): Promise<UpsertOutcome | 'taken'>;
  /** Disables the enabled clients of `source` whose client_id is not in `keep`; returns their ids. */
  disableAllExcept(source: RecordSource, keep: readonly string[]): Promise<string[]>;
}

/** A relying party or resource server, or a service account (made by POST /admin/v1/service-accounts). */
export type ClientKind = 'client' | 'service_account';

/** A stored client as the control plane sees it, enabled or not. */
export interface ClientRecord {
  readonly client: Client;
  readonly source: RecordSource;
  readonly kind: ClientKind;
  readonly enabled: boolean;
  /** Who answers for the client, and what it is for (free text). */
  readonly owner: string | undefined;
  readonly description: string | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A page of clients in client_id order, filtered. */
export interface ClientQuery {
  readonly limit: number;
  /** Only client_ids after this one (the last of the previous page). */
  readonly after?: string | undefined;
  readonly source?: RecordSource | undefined;
  readonly enabled?: boolean | undefined;
  readonly grantType?: GrantType | undefined;
  readonly idPrefix?: string | undefined;
  readonly kind?: ClientKind | undefined;
}

/** What a control-plane write stores (the times are the repository's). */
export type ClientWrite = Pick<ClientRecord, 'client' | 'kind' | 'enabled' | 'owner' | 'description'>;

/**
 * The control plane's reads and writes, disabled clients included. Every write is one
 * transaction that also records a control change, so every process drops its client cache.
 * Disabling or deleting a client ends its grants (see end-grants); enabling or creating one
 * stamps enabledSince, so tokens issued before stay dead.
 */
export interface ClientStore {
  page(query: ClientQuery): Promise<ClientRecord[]>;
  get(clientId: string): Promise<ClientRecord | undefined>;
  /** false (nothing written) when the client_id exists, whatever its source or state. */
  insert(write: ClientWrite, source: RecordSource): Promise<boolean>;
  /**
   * Reads the client and writes what `change` returns, in one transaction (`change` may throw:
   * nothing is written; it may return undefined: nothing to write). undefined: no such client.
   */
  modify(clientId: string, change: (current: ClientRecord) => ClientWrite | undefined): Promise<{ before: ClientRecord; after: ClientRecord } | undefined>;
  /** Deletes the client after `check` (which may throw) and ends its grants; undefined: no such client. */
  delete(clientId: string, check: (current: ClientRecord) => void): Promise<ClientRecord | undefined>;
}

export interface UserRepository {
  /** An enabled user. */
  findById(id: string): Promise<User | undefined>;
  /** An enabled user, or with `includeDisabled` any stored one (the seed compares passwords). */
  findByUsername(username: string, options?: { includeDisabled?: boolean }): Promise<User | undefined>;
  /**
   * Creates or updates by username a user of `source`, enabling it if it was disabled; keeps the
   * existing id (`sub`). `taken` (nothing written) when a user of another source has the username.
   */
  upsert(user: Omit<User, 'id'>, newId: string, source: RecordSource): Promise<UpsertOutcome | 'taken'>;
  /**
   * Whether the user of a token's sub is disabled: read for every user access token checked
   * (introspection, userinfo), so it answers from memory (disabled users are few).
   */
  isDisabled(id: string): Promise<boolean>;
  /** Disables the enabled users of `source` whose username is not in `keep`; returns their ids. */
  disableAllExcept(source: RecordSource, keep: readonly string[]): Promise<string[]>;

  // The control plane's side: any stored user, enabled or not, never with its password hash.
  findRecord(id: string): Promise<UserRecord | undefined>;
  findRecordByUsername(username: string): Promise<UserRecord | undefined>;
  /** At most `limit` users in username order, after the username `after` when given. */
  list(filter: UserFilter, limit: number, after?: string): Promise<UserRecord[]>;
  /** Creates an API user; false (nothing written) when the username is taken. */
  create(user: { readonly id: string; readonly username: string; readonly passwordHash: string; readonly claims: Record<string, unknown> }): Promise<boolean>;
  /**
   * Replaces an API user's claims with what `change` makes of the user as stored, read and written
   * in one transaction (concurrent changes are applied one after the other, none lost); `change`
   * may throw (nothing is written). Undefined (`change` not called) when there is no such API user.
   */
  updateClaims(id: string, change: (user: UserRecord) => Record<string, unknown>): Promise<{ before: UserRecord; after: UserRecord } | undefined>;
  /**
   * Disables an enabled API user and ends what it was granted (as disableAllExcept does: its
   * sessions expire, for LogoutService.endExpired to tell their clients); undefined when there
   * is no such enabled API user.
   */
  disable(id: string): Promise<RevokedCounts | undefined>;
  /** Enables a disabled API user (nothing it had comes back); false when there is no such disabled API user. */
  enable(id: string): Promise<boolean>;
  /**
   * Sets an API user's password hash and ends its sessions (expired, as above), refresh tokens
   * and recorded access tokens; undefined when there is no such API user.
   */
  setPassword(id: string, passwordHash: string): Promise<RevokedCounts | undefined>;
}

export interface UserFilter {
  readonly source?: UserSource | undefined;
  readonly enabled?: boolean | undefined;
  readonly usernamePrefix?: string | undefined;
}

/** What revoking every token of a client or user ended. */
export interface RevokedCounts {
  readonly refreshTokens: number;
  /** Recorded (issued_tokens) access tokens not yet expired. */
  readonly accessTokens: number;
  /** Live sessions ended (their clients are told by back-channel logout). */
  readonly sessions: number;
}

export interface SessionRepository {
  create(session: Session): Promise<void>;
  find(idDigest: string): Promise<Session | undefined>;
  /**
   * Marks the session ended, once: returns it only to the call that ended it (undefined when it
   * was unknown or already ended), so its clients are told exactly once.
   */
  end(idDigest: string, now: number): Promise<Session | undefined>;
  /**
   * Marks ended at most `limit` sessions that expired without being ended and that logged in to
   * at least one client, and returns them with those clients (read before the purge deletes them).
   */
  endExpired(now: number, limit: number): Promise<Array<{ session: Session; clientIds: string[] }>>;
  addClient(sid: string, clientId: string): Promise<void>;
  clientsOf(sid: string): Promise<string[]>;
  /** A user's live sessions at `now` (not ended, not expired), newest first, at most `limit`, after `after`. */
  listLive(userId: string, now: number, limit: number, after?: SessionPosition): Promise<Array<{ session: Session; clientIds: string[] }>>;
  /**
   * Makes the live session `sid` expire at `now` (not ended: endExpired then ends it and
   * returns it once, for LogoutService to tell its clients); returns its user's id, or undefined
   * when no live session has it.
   */
  expire(sid: string, now: number): Promise<string | undefined>;
  /** Sessions live at `now` (not ended, not expired), all users together: the metrics' gauge, read at scrape. */
  countLive(now: number): Promise<number>;
}

/** Where a page of sessions (newest first) stopped. */
export interface SessionPosition {
  readonly authTime: number;
  readonly sid: string;
}

export interface InteractionRepository {
  create(interaction: Interaction): Promise<void>;
  /**
   * Live (not yet expired) interactions at `now`: the client's and everyone's. /auth counts them
   * before it keeps a new one, to bound what unauthenticated callers can make it store.
   */
  countPending(clientId: string, now: number): Promise<{ readonly client: number; readonly total: number }>;
  /**
   * Deletes the oldest live interaction that has no user yet (anonymous: anyone can make one), of
   * `clientId` or, without it, of any client; false when every live one has a signed-in user.
   */
  deleteOldestAnonymous(now: number, clientId?: string): Promise<boolean>;
  /** Deletes up to `max` expired interactions (the periodic purge does the rest); returns how many. */
  deleteExpired(now: number, max: number): Promise<number>;
  find(id: string): Promise<Interaction | undefined>;
  setAuthenticated(id: string, userId: string, authTime: number): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface ConsentRepository {
  /** The scopes the user already granted the client. */
  findGranted(userId: string, clientId: string): Promise<readonly string[]>;
  grant(userId: string, clientId: string, scopes: readonly string[], now: number): Promise<void>;
}

export interface IssuedToken {
  readonly jti: string;
  readonly kind: 'access_token' | 'refresh_token';
  readonly grantId: string | undefined;
  readonly clientId: string;
  readonly userId: string | undefined;
  readonly scope: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface AuthorizationCodeRepository {
  save(code: AuthorizationCode): Promise<void>;
  find(codeDigest: string): Promise<AuthorizationCode | undefined>;
  /**
   * Atomically marks the code used and records the tokens issued from it, in one transaction.
   * Returns false (and records nothing) when another request consumed it first or it expired.
   */
  consume(codeDigest: string, now: number, issued: readonly IssuedToken[], refresh: RefreshToken | undefined): Promise<boolean>;
}

export interface RefreshTokenRepository {
  find(tokenDigest: string): Promise<RefreshToken | undefined>;
  /**
   * In one transaction: marks the presented token rotated (only if it is still active) and
   * saves its successor, or, without a successor, extends its idle expiry; and records the
   * access token issued. False (nothing written) when the token was used or revoked meanwhile.
   */
  use(tokenDigest: string, now: number, change: { successor: RefreshToken } | { idleExpiresAt: number }, issued: readonly IssuedToken[]): Promise<boolean>;
}

/**
 * Revocation state. Reads are in memory (every token check asks); writes go to storage and
 * memory at once, so introspection sees a revocation immediately.
 */
export interface TokenRevocations {
  isRevoked(jti: string): boolean;
  /** An access token (a JWT): remembered by jti until it expires. */
  revokeAccessToken(jti: string, expiresAt: number, now: number): Promise<void>;
  /** Every refresh token of the grant and every access token issued from it. */
  revokeGrant(grantId: string, now: number): Promise<void>;
  /**
   * Every token of a client or of a user, at once: refresh tokens, recorded access tokens, and
   * for a client its unrecorded client_credentials access tokens too (issued before now + 1);
   * for a user its sessions expire (for LogoutService.endExpired). Undefined when no such
   * client or user is stored.
   */
  revokeAllOf(owner: { readonly clientId: string } | { readonly userId: string }, now: number): Promise<RevokedCounts | undefined>;
}

export interface AuditEvent {
  readonly event: string;
  readonly clientId?: string | undefined;
  readonly userId?: string | undefined;
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
  /** Who made a management change: `client:<admin client_id>` (the API) or `cli:<os user>`. */
  readonly actor?: string | undefined;
  /** Never secrets, passwords, codes or tokens. */
  readonly details?: Record<string, unknown>;
}

export interface AuditLog {
  record(event: AuditEvent): void;
  /** Writes what is buffered (called on shutdown). */
  flush(): Promise<void>;
}
