import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { isExpired } from '../../domain/client.js';
import { InvalidToken } from '../../protocol/errors.js';
import type { Clock } from '../ports/clock.js';
import type { KeyStore } from '../ports/key-store.js';
import type { ClientRepository, TokenRevocations, UserRepository } from '../ports/repositories.js';

export interface AccessTokenClaims {
  readonly sub: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly jti: string;
  readonly exp: number;
  /** RFC 9449 §6.1: set when the token is DPoP-bound. */
  readonly jkt: string | undefined;
  /** The whole verified payload (introspection answers from it). */
  readonly payload: JWTPayload;
}

const MAX_TOKEN_LENGTH = 8192;
/** Verified tokens remembered (by their full text), so a token checked again costs no signature check. */
export const VERIFIED_CACHE_SIZE = 10_000;

/**
 * Verifies access tokens this provider issued (RFC 9068 §4) with the cached public keys, and
 * refuses revoked ones (an in-memory lookup) and those of a disabled client or user (the client
 * cache and the user cache: no query once warm). A bounded cache of verified tokens skips the
 * signature check on a repeat; expiry, revocation and the client's and user's state are checked
 * on every call, cached or not.
 */
export class AccessTokenVerifier {
  private readonly verified = new Map<string, AccessTokenClaims>();

  constructor(
    private readonly keys: KeyStore,
    private readonly clock: Clock,
    private readonly issuer: string,
    private readonly revocations: TokenRevocations,
    private readonly owners: { readonly clients: ClientRepository; readonly users: UserRepository },
  ) {}

  /** @param audience the audience required, or null to accept any (introspection serves every resource) */
  async verify(token: string, audience: string | null = this.issuer): Promise<AccessTokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidToken('the access token is too long');
    const cached = this.verified.get(token);
    if (cached !== undefined) return this.stillValid(cached, audience);
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new InvalidToken('the access token is malformed');
    }
    // The header is read before the signature is checked: kid may be any JSON value.
    const key = typeof kid === 'string' ? this.keys.verificationKey(kid) : undefined;
    if (key === undefined) throw new InvalidToken('the access token was not issued by this server');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.key, {
        issuer: this.issuer,
        ...(audience !== null ? { audience } : {}),
        typ: 'at+jwt', // RFC 9068 §4: reject anything else, ID tokens included
        algorithms: [key.alg],
        currentDate: new Date(this.clock.now() * 1000),
        requiredClaims: ['sub', 'client_id', 'jti', 'exp', 'iat'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new InvalidToken('the access token expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw new InvalidToken(`the access token ${error.claim} claim is invalid`);
      throw new InvalidToken('the access token is invalid');
    }
    // Signed by this server, so well typed; checked anyway, as every claim read from input is.
    if (typeof payload.sub !== 'string' || typeof payload.client_id !== 'string' || typeof payload.jti !== 'string') {
      throw new InvalidToken('the access token is invalid');
    }
    const claims: AccessTokenClaims = {
      sub: payload.sub,
      clientId: payload.client_id,
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
      jti: payload.jti,
      exp: payload.exp!,
      jkt: boundKey(payload.cnf),
      payload,
    };
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, claims);
    await this.ownersEnabled(claims);
    if (this.revocations.isRevoked(claims.jti)) throw new InvalidToken('the access token was revoked');
    return claims;
  }

  /** The checks that change with time, made again for a cached token. */
  private async stillValid(claims: AccessTokenClaims, audience: string | null): Promise<AccessTokenClaims> {
    if (claims.exp <= this.clock.now()) throw new InvalidToken('the access token expired');
    await this.ownersEnabled(claims);
    if (this.revocations.isRevoked(claims.jti)) throw new InvalidToken('the access token was revoked');
    if (audience !== null) {
      const aud = claims.payload.aud;
      if (!(Array.isArray(aud) ? aud.includes(audience) : aud === audience)) throw new InvalidToken('the access token aud claim is invalid');
    }
    return claims;
  }

  /**
   * A disabled (or unknown) client or user makes its tokens worthless at once, although a JWT
   * carries its own validity. RFC 9068 §2.2: sub is the client itself for client_credentials,
   * else the user.
   */
  private async ownersEnabled(claims: AccessTokenClaims): Promise<void> {
    const client = await this.owners.clients.findById(claims.clientId);
    if (client === undefined) throw new InvalidToken('the client of this access token is disabled');
    // A client past its expiry date (a service account's): its tokens die with it (from memory, no query).
    if (isExpired(client, this.clock.now())) throw new InvalidToken('the client of this access token expired');
    // Issued before the client was disabled (and since enabled again): client_credentials tokens
    // are not recorded, so this is what keeps them dead.
    if (client.enabledSince !== undefined && (claims.payload.iat ?? 0) < client.enabledSince) {
      throw new InvalidToken('the access token was issued before its client was disabled');
    }
    // A set of the few disabled users, in memory: no query per token, however many users are active.
    if (claims.sub !== claims.clientId && (await this.owners.users.isDisabled(claims.sub))) {
      throw new InvalidToken('the user of this access token is disabled');
    }
  }
}

function boundKey(cnf: unknown): string | undefined {
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const jkt = (cnf as { jkt?: unknown }).jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}
