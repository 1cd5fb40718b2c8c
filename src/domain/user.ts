/** A username's length at most, in characters (config.yaml and the login form alike). */
export const USERNAME_MAX_LENGTH = 128;
/**
 * A password's length at most, in UTF-8 bytes: bcrypt reads no further, so a longer one would
 * be truncated when stored and, at login, would match any password sharing its first 72 bytes.
 */
export const PASSWORD_MAX_BYTES = 72;

/** A user's claims at most, in characters of their JSON: they ride in every ID token and userinfo answer. */
export const USER_CLAIMS_MAX_LENGTH = 16_384;

/** An end-user who logs in on the hosted pages. */
export interface User {
  /** Stable subject identifier (OIDC Core §2 `sub`): generated once, never reassigned. */
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  /** Standard claims (OIDC Core §5.1) released by scope. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Who owns a user: config.yaml (the file changes it, the API only reads it) or the management API and CLI. */
export type UserSource = 'config' | 'api';

/** A user as the control plane shows it: never the password hash. */
export interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly source: UserSource;
  readonly enabled: boolean;
  /** Epoch seconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A generated password's random bytes: 192 bits, 32 base64url characters (well under bcrypt's 72 bytes). */
export const GENERATED_PASSWORD_BYTES = 24;
