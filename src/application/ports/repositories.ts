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
export interface ClientRepository {
  findById(clientId: string): Promise<Client | undefined>;
  list(): Promise<Client[]>;
  upsert(client: Client): Promise<'created' | 'updated' | 'unchanged'>;
}

export interface UserRepository {
  findById(id: string): Promise<User | undefined>;
  findByUsername(username: string): Promise<User | undefined>;
  /** Creates or updates by username; keeps the existing id (`sub`). */
  upsert(user: Omit<User, 'id'>, newId: string): Promise<'created' | 'updated' | 'unchanged'>;
}

export interface SessionRepository {
  create(session: Session): Promise<void>;
  find(idDigest: string): Promise<Session | undefined>;
  end(idDigest: string, now: number): Promise<void>;
  addClient(sid: string, clientId: string): Promise<void>;
  clientsOf(sid: string): Promise<string[]>;
}

export interface InteractionRepository {
  create(interaction: Interaction): Promise<void>;
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
