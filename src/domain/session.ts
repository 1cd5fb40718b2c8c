/** A single sign-on session: the browser's cookie holds a random id, the store its digest. */
export interface Session {
  readonly idDigest: string;
  readonly userId: string;
  /** When the user last entered their password (OIDC Core `auth_time`), epoch seconds. */
  readonly authTime: number;
  readonly expiresAt: number;
  /** OIDC Front/Back-Channel Logout `sid`: random, not derived from the cookie. */
  readonly sid: string;
}

export function isSessionActive(session: Session, now: number): boolean {
  return session.expiresAt > now;
}

/** OIDC Core §3.1.2.1 max_age: the authentication is too old when auth_time + max_age < now. */
export function isAuthenticationTooOld(authTime: number, maxAge: number | undefined, now: number): boolean {
  return maxAge !== undefined && authTime + maxAge < now;
}
