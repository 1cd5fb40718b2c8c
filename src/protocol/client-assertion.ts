import { decodeJwt, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { ClientAssertionAudience, ClientProfile } from '../domain/client.js';
import { InvalidClient } from './errors.js';

/**
 * private_key_jwt client authentication: RFC 7523 §3 (JWT bearer assertions), RFC 7521 §4.2,
 * OIDC Core §9, and FAPI 2.0 Security Profile §5.3.2.1 for `fapi2` clients.
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Algorithms a client may sign its assertion with (no `none`, no HMAC). */
export const CLIENT_ASSERTION_ALGS = ['ES256', 'PS256', 'EdDSA', 'RS256'] as const;
/** FAPI 2.0 §5.4: PS256, ES256 or EdDSA. */
export const FAPI2_CLIENT_ASSERTION_ALGS = ['ES256', 'PS256', 'EdDSA'] as const;

/*
 * Lifetime rule (RFC 7523 §3 (4), (5), (6) and (7)): an assertion is accepted while now < exp
 * (+ skew) and
 *  - with an iat (or, without iat, an nbf): that instant is at most MAX_ASSERTION_AGE (+ skew) old,
 *    and exp at most MAX_ASSERTION_LIFETIME (+ skew) away;
 *  - with neither: exp at most MAX_ASSERTION_AGE away.
 * So an assertion is accepted for at most MAX_ASSERTION_AGE + 2 × skew seconds whatever its exp,
 * and its jti is remembered only that long (`usableUntil`): the replay cache stays bounded while
 * clients that sign exp = iat + 3600 (Authlib's PrivateKeyJWT; Okta and Google accept an hour)
 * are accepted.
 */
/** Seconds an assertion stays acceptable after its iat (or nbf); also the longest exp without either. */
export const MAX_ASSERTION_AGE = 300;
/** The farthest exp accepted (with an iat or nbf), in seconds from now (RFC 7523 §3 (4): reject unreasonable exp). */
export const MAX_ASSERTION_LIFETIME = 3600;
/** FAPI 2.0 §5.3.2.1: iat/nbf up to 10 s in the future are accepted (clock skew); beyond, rejected. */
export const ASSERTION_FUTURE_SKEW = 10;
const MAX_ASSERTION_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
// typ is optional; when present it must say this is a JWT for client authentication, not another kind.
const ACCEPTED_TYP = new Set(['jwt', 'client-authentication+jwt', 'application/client-authentication+jwt']);

export type { ClientAssertionAudience };

export interface ClientAssertionContext {
  readonly clientId: string;
  readonly profile: ClientProfile;
  readonly audience: ClientAssertionAudience;
  readonly issuer: string;
  /**
   * What else aud may name for `oidc` clients with audience `lenient` (RFC 7523 §3 (3): the token
   * endpoint URL, and the URL of the endpoint being called).
   */
  readonly endpointUrls: readonly string[];
  /** Seconds since the epoch. */
  readonly now: number;
}

export interface VerifiedAssertion {
  readonly jti: string;
  readonly exp: number;
  /** The last instant (seconds) at which this assertion can be accepted: remember its jti until then. */
  readonly usableUntil: number;
  /**
   * The earliest instant it could have been accepted, by its claims: iat, else nbf, else
   * exp − MAX_ASSERTION_AGE (future skew aside). A replay cache that remembers only since a later
   * instant cannot tell whether it was used.
   */
  readonly usableFrom: number;
}

/** The client the assertion claims to be (iss), read before the signature is checked. */
export function assertionIssuer(assertion: string): string | undefined {
  if (assertion.length > MAX_ASSERTION_LENGTH) return undefined;
  try {
    const { iss } = decodeJwt(assertion);
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

export async function verifyClientAssertion(assertion: string, key: JWTVerifyGetKey, context: ClientAssertionContext): Promise<VerifiedAssertion> {
  const fail = (description: string) => new InvalidClient(description);
  if (assertion.length > MAX_ASSERTION_LENGTH) throw fail('client_assertion is too long');
  const algorithms = context.profile === 'fapi2' ? FAPI2_CLIENT_ASSERTION_ALGS : CLIENT_ASSERTION_ALGS;
  let payload: Record<string, unknown>;
  let typ: unknown;
  try {
    ({ payload, protectedHeader: { typ } } = await jwtVerify(assertion, key, {
      algorithms: [...algorithms],
      currentDate: new Date(context.now * 1000),
      clockTolerance: ASSERTION_FUTURE_SKEW,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
    }));
  } catch (error) {
    throw fail(describeJoseError(error, algorithms));
  }
  if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYP.has(typ.toLowerCase()))) {
    throw fail('client_assertion typ must be JWT or client-authentication+jwt when present');
  }
  const { iss, sub, aud, iat, nbf, jti } = payload;
  // RFC 7523 §3 (1) and (2): iss and sub are the client_id.
  if (iss !== context.clientId) throw fail('client_assertion iss must be the client_id');
  if (sub !== context.clientId) throw fail('client_assertion sub must be the client_id');
  checkAudience(aud, context);
  if (typeof iat === 'number' && iat > context.now + ASSERTION_FUTURE_SKEW) throw fail('client_assertion iat is in the future');
  if (typeof nbf === 'number' && nbf > context.now + ASSERTION_FUTURE_SKEW) throw fail('client_assertion nbf is in the future');
  const exp = payload.exp as number; // jose: required and numeric
  // RFC 7523 §3 (6) and (5): the freshness anchor is iat, else nbf.
  const anchorName = typeof iat === 'number' ? 'iat' : typeof nbf === 'number' ? 'nbf' : undefined;
  let usableUntil: number;
  let usableFrom: number;
  if (anchorName !== undefined) {
    const anchor = (anchorName === 'iat' ? iat : nbf) as number;
    // RFC 7523 §3 (6): an iat unreasonably far in the past is refused (here: past MAX_ASSERTION_AGE).
    if (context.now - anchor > MAX_ASSERTION_AGE + ASSERTION_FUTURE_SKEW) {
      throw fail(`client_assertion ${anchorName} must be at most ${MAX_ASSERTION_AGE} seconds in the past`);
    }
    // RFC 7523 §3 (4): an unreasonably far exp is refused.
    if (exp - context.now > MAX_ASSERTION_LIFETIME + ASSERTION_FUTURE_SKEW) {
      throw fail(`client_assertion exp must be at most ${MAX_ASSERTION_LIFETIME} seconds in the future`);
    }
    usableUntil = Math.min(exp, anchor + MAX_ASSERTION_AGE) + ASSERTION_FUTURE_SKEW;
    usableFrom = anchor;
  } else {
    // Without iat or nbf only exp bounds how long the jti must be remembered: keep it short.
    if (exp - context.now > MAX_ASSERTION_AGE) {
      throw fail(`client_assertion exp must be at most ${MAX_ASSERTION_AGE} seconds in the future when iat is absent`);
    }
    usableUntil = exp + ASSERTION_FUTURE_SKEW;
    usableFrom = exp - MAX_ASSERTION_AGE;
  }
  // RFC 7523 §3 (7): the jti lets the server refuse a replayed assertion.
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw fail('client_assertion jti claim is missing or invalid');
  return { jti, exp, usableUntil, usableFrom };
}

/**
 * RFC 7523 §3 (3): aud identifies the authorization server. draft-ietf-oauth-rfc7523bis (the fix
 * for audience injection) and FAPI 2.0 §5.3.2.1 (Final): the issuer identifier, as a single
 * string. The older leniency stays available to `oidc` clients that opt in (`lenient`).
 */
function checkAudience(aud: unknown, context: ClientAssertionContext): void {
  if (context.profile === 'fapi2' || context.audience !== 'lenient') {
    if (aud !== context.issuer) throw new InvalidClient('client_assertion aud must be the issuer identifier, as a single string');
    return;
  }
  const accepted = new Set([context.issuer, ...context.endpointUrls]);
  const values = Array.isArray(aud) ? aud : [aud];
  if (!values.some((value) => typeof value === 'string' && accepted.has(value))) {
    throw new InvalidClient('client_assertion aud must be the issuer identifier or the endpoint URL');
  }
}

function describeJoseError(error: unknown, algorithms: readonly string[]): string {
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return `client_assertion alg must be one of ${algorithms.join(', ')}`;
  if (error instanceof joseErrors.JWTExpired) return 'client_assertion has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    // jose reports a non-numeric nbf under the same claim: only a failed time check is "in the future".
    if (error.claim === 'nbf' && error.reason === 'check_failed') return 'client_assertion nbf is in the future';
    return `client_assertion ${error.claim} claim is missing or invalid`;
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key of the client matches the client_assertion';
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return 'several registered keys match the client_assertion: set kid';
  if (error instanceof joseErrors.JWKSTimeout) return "the client's jwks_uri did not answer in time";
  if (error instanceof joseErrors.JWKSInvalid) return "the client's jwks_uri did not return a valid JWK set";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'client_assertion signature is invalid';
  if (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC') return "the client's keys could not be loaded";
  return 'client_assertion is not a valid signed JWT';
}
