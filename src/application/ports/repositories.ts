import type { AuthorizationCode } from '../../domain/authorization-code.js';
import type { Interaction } from '../../domain/authorization-request.js';
import type { Client } from '../../domain/client.js';
import type { RefreshToken } from '../../domain/refresh-token.js';
import type { Session } from '../../domain/session.js';
import type { User } from '../../domain/user.js';

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
  /** An enabled client. */
  findById(clientId: string): Promise<Client | undefined>;
  /** The enabled clients. */
  list(): Promise<Client[]>;
  /** Creates or updates by client_id, enabling it if it was disabled. */
  upsert(client: Client): Promise<UpsertOutcome>;
  /** Disables the enabled clients of `source` whose client_id is not in `keep`; returns their ids. */
  disableAllExcept(source: RecordSource, keep: readonly string[]): Promise<string[]>;
}

export interface UserRepository {
  /** An enabled user. */
  findById(id: string): Promise<User | undefined>;
  /** An enabled user, or with `includeDisabled` any stored one (the seed compares passwords). */
  findByUsername(username: string, options?: { includeDisabled?: boolean }): Promise<User | undefined>;
  /** Creates or updates by username, enabling it if it was disabled; keeps the existing id (`sub`). */
  upsert(user: Omit<User, 'id'>, newId: string): Promise<UpsertOutcome>;
  /**
   * Whether the user of a token's sub is disabled: read for every user access token checked
   * (introspection, userinfo), so it answers from memory (disabled users are few).
   */
  isDisabled(id: string): Promise<boolean>;
  /** Disables the enabled users of `source` whose username is not in `keep`; returns their ids. */
  disableAllExcept(source: RecordSource, keep: readonly string[]): Promise<string[]>;
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
}

export interface AuditEvent {
  readonly event: string;
  readonly clientId?: string | undefined;
  readonly userId?: string | undefined;
  readonly ip?: string | undefined;
  /** Never secrets, passwords, codes or tokens. */
  readonly details?: Record<string, unknown>;
}

export interface AuditLog {
  record(event: AuditEvent): void;
  /** Writes what is buffered (called on shutdown). */
  flush(): Promise<void>;
}
