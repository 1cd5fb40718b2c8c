/** A username's length at most, in characters (config.yaml and the login form alike). */
export const USERNAME_MAX_LENGTH = 128;
/**
 * A password's length at most, in UTF-8 bytes: bcrypt reads no further, so a longer one would
 * be truncated when stored and, at login, would match any password sharing its first 72 bytes.
 */
export const PASSWORD_MAX_BYTES = 72;

/** An end-user who logs in on the hosted pages. */
export interface User {
  /** Stable subject identifier (OIDC Core §2 `sub`): generated once, never reassigned. */
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  /** Standard claims (OIDC Core §5.1) released by scope. */
  readonly claims: Readonly<Record<string, unknown>>;
}
