/**
 * OAuth 2.0 / OpenID Connect protocol errors, one class per error code.
 * Handlers throw these; one error handler (src/http/plugins/error-handler.ts) renders them
 * as RFC 6749 §5.2 JSON, as an authorization-response redirect or as an HTML page.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthError
 */
import { toErrorDescription } from './error-description.js';

export abstract class OAuthError extends Error {
  abstract readonly error: string;
  readonly status: number = 400;
  /** RFC 6749 §5.2: already restricted to the allowed characters (error-description.ts). */
  readonly description: string;

  constructor(description: string) {
    const safe = toErrorDescription(description);
    super(safe);
    this.description = safe;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

export class InvalidRequest extends OAuthError {
  readonly error = 'invalid_request';
  constructor(description: string, override readonly status = 400) {
    super(description);
  }
}

/** RFC 6749 §5.2: 401 when the client tried to authenticate (or used Basic). */
export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client';
  override readonly status = 401;
  constructor(
    description: string,
    /** The client attempted HTTP Basic: the 401 must carry WWW-Authenticate: Basic. */
    readonly basicChallenge = false,
  ) {
    super(description);
  }
}

export class InvalidGrant extends OAuthError {
  readonly error = 'invalid_grant';
}

export class UnauthorizedClient extends OAuthError {
  readonly error = 'unauthorized_client';
}

export class UnsupportedGrantType extends OAuthError {
  readonly error = 'unsupported_grant_type';
}

export class UnsupportedResponseType extends OAuthError {
  readonly error = 'unsupported_response_type';
}

export class InvalidScope extends OAuthError {
  readonly error = 'invalid_scope';
}

/** RFC 8707 §2: the requested resource is invalid or not allowed. */
export class InvalidTarget extends OAuthError {
  readonly error = 'invalid_target';
}

export class AccessDenied extends OAuthError {
  readonly error = 'access_denied';
  override readonly status = 403;
}

export class LoginRequired extends OAuthError {
  readonly error = 'login_required';
}

export class ConsentRequired extends OAuthError {
  readonly error = 'consent_required';
}

export class RequestNotSupported extends OAuthError {
  readonly error = 'request_not_supported';
}

/** RFC 6750 §3.1 */
export class InvalidToken extends OAuthError {
  readonly error = 'invalid_token';
  override readonly status = 401;
  constructor(
    description: string,
    /** The scheme the client must use (RFC 9449 §7.1: a DPoP challenge for DPoP-bound tokens). */
    readonly scheme?: 'Bearer' | 'DPoP',
  ) {
    super(description);
  }
}

/** RFC 6750 §3.1 */
export class InsufficientScope extends OAuthError {
  readonly error = 'insufficient_scope';
  override readonly status = 403;
}

/** OIDC Core §3.1.2.6: the request_uri is unknown, expired, used or another client's. */
export class InvalidRequestUri extends OAuthError {
  readonly error = 'invalid_request_uri';
}

/** RFC 9449 §5 and §7.1: the DPoP proof is missing where required, or invalid. */
export class InvalidDpopProof extends OAuthError {
  readonly error = 'invalid_dpop_proof';
}

/** RFC 9449 §8 and §9: the proof must carry the server-provided nonce sent in DPoP-Nonce. */
export class UseDpopNonce extends OAuthError {
  readonly error = 'use_dpop_nonce';
  constructor(
    description: string,
    /** The nonce to send back in the DPoP-Nonce header. */
    readonly nonce: string,
  ) {
    super(description);
  }
}

/** RFC 6749 §4.1.2.1: the server cannot take the request now (a bounded store is full). */
export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable';
  override readonly status = 503;
}

/**
 * RFC 6585 §4: too many requests from one address or one client in the configured window.
 * RFC 6749 §5.2 defines no error code for a rate limit at the token endpoint, nor do RFC 7009
 * and 7662 at theirs (RFC 9126 §2.3 names the status 429 at the PAR endpoint, but no code): the
 * code is borrowed from the authorization endpoint's temporarily_unavailable (RFC 6749
 * §4.1.2.1), as TemporarilyUnavailable's 503 does; the status 429 and Retry-After (RFC 9110
 * §10.2.3, when the window ends) say the rest.
 */
export class TooManyRequests extends OAuthError {
  readonly error = 'temporarily_unavailable';
  override readonly status = 429;
  constructor(
    description: string,
    /** Seconds until the window ends (at least 1): the Retry-After header. */
    readonly retryAfter: number,
  ) {
    super(description);
  }

  /** A per-address limit (rate_limits.per_ip). */
  static fromAddress(retryAfter: number): TooManyRequests {
    return tooMany('too many requests from this address', retryAfter);
  }

  /** A per-client limit (rate_limits.per_client), counted once the client authenticated. */
  static fromClient(retryAfter: number): TooManyRequests {
    return tooMany('too many requests from this client', retryAfter);
  }

  /** The address's budget of failed client authentications (rate_limits.per_ip.failed_client_auth). */
  static fromFailedClientAuth(retryAfter: number): TooManyRequests {
    return tooMany('too many failed client authentications from this address', retryAfter);
  }
}

function tooMany(what: string, retryAfter: number): TooManyRequests {
  const seconds = Math.max(1, Math.ceil(retryAfter));
  return new TooManyRequests(`${what}; retry after ${seconds} ${seconds === 1 ? 'second' : 'seconds'}`, seconds);
}

export class NotFound extends OAuthError {
  readonly error = 'not_found';
  override readonly status = 404;
}

export class ServerError extends OAuthError {
  readonly error = 'server_error';
  override readonly status = 500;
}
