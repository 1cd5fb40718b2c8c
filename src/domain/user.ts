/** An end-user who logs in on the hosted pages. */
export interface User {
  /** Stable subject identifier (OIDC Core §2 `sub`): generated once, never reassigned. */
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  /** Standard claims (OIDC Core §5.1) released by scope. */
  readonly claims: Readonly<Record<string, unknown>>;
}
