import type { OAuthError } from '../../protocol/errors.js';

/**
 * An error found before client_id and redirect_uri were both validated: it must be shown to
 * the user, never redirected (RFC 6749 §4.1.2.1 — no open redirect).
 */
export class AuthorizationPageError extends Error {
  constructor(readonly error: OAuthError) {
    super(error.description);
  }
}

/** An error returned to the client's validated redirect_uri (RFC 6749 §4.1.2.1, RFC 9207 iss). */
export class AuthorizationRedirectError extends Error {
  constructor(
    readonly error: OAuthError,
    readonly redirectUri: string,
    readonly state: string | undefined,
  ) {
    super(error.description);
  }
}
