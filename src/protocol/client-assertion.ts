import { decodeJwt, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { ClientProfile } from '../domain/client.js';
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

/** An assertion may not be valid for longer than this from now (RFC 7523 §3 (4): reject unreasonable exp). */
export const MAX_ASSERTION_LIFETIME = 300;
/** FAPI 2.0 §5.3.2.1: iat/nbf up to 10 s in the future are accepted (clock skew); beyond, rejected. */
export const ASSERTION_FUTURE_SKEW = 10;
const MAX_ASSERTION_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
// typ is optional; when present it must say this is a JWT for client authentication, not another kind.
const ACCEPTED_TYP = new Set(['jwt', 'client-authentication+jwt', 'application/client-authentication+jwt']);

export interface ClientAssertionContext {
  readonly clientId: string;
  readonly profile: ClientProfile;
  readonly issuer: string;
  /**
   * What else aud may name for `oidc` clients (RFC 7523 §3 (3): the token endpoint URL, and the
   * URL of the endpoint being called). `fapi2` clients must use the issuer alone.
   */
  readonly endpointUrls: readonly string[];
  /** Seconds since the epoch. */
  readonly now: number;
}

export interface VerifiedAssertion {
  readonly jti: string;
  readonly exp: number;
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
  const { iss, sub, aud, exp, iat, nbf, jti } = payload;
  // RFC 7523 §3 (1) and (2): iss and sub are the client_id.
  if (iss !== context.clientId) throw fail('client_assertion iss must be the client_id');
  if (sub !== context.clientId) throw fail('client_assertion sub must be the client_id');
  checkAudience(aud, context);
  // RFC 7523 §3 (4): exp is required; a far-away exp would make the jti cache hold it for long.
  if (typeof exp !== 'number' || exp - context.now > MAX_ASSERTION_LIFETIME) {
    throw fail(`client_assertion exp must be at most ${MAX_ASSERTION_LIFETIME} seconds in the future`);
  }
  if (typeof iat === 'number' && iat > context.now + ASSERTION_FUTURE_SKEW) throw fail('client_assertion iat is in the future');
  if (typeof nbf === 'number' && nbf > context.now + ASSERTION_FUTURE_SKEW) throw fail('client_assertion nbf is in the future');
  // RFC 7523 §3 (7): the jti lets the server refuse a replayed assertion.
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw fail('client_assertion jti claim is missing or invalid');
  return { jti, exp };
}

/**
 * RFC 7523 §3 (3): aud identifies the authorization server. FAPI 2.0 §5.3.2.1 (Final): for
 * FAPI clients only the issuer identifier, as a single string.
 */
function checkAudience(aud: unknown, context: ClientAssertionContext): void {
  if (context.profile === 'fapi2') {
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
