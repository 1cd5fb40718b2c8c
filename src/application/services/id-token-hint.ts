import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { InvalidRequest } from '../../protocol/errors.js';
import { MAX_PARAMETER_LENGTH } from '../../protocol/parameters.js';
import type { KeyStore } from '../ports/key-store.js';

/** What a verified id_token_hint says: whom it was issued for, and to which clients. */
export interface IdTokenHint {
  readonly sub: string;
  readonly aud: readonly string[];
  readonly sid: string | undefined;
}

/**
 * id_token_hint at /auth (OIDC Core §3.1.2.1) and /logout (RP-Initiated Logout 1.0 §2): an ID
 * token this server issued, its signature checked with our keys, its expiry tolerated (a hint
 * names a user and grants nothing). Every header and claim read from it is type-checked first:
 * the header is read before the signature is.
 */
export class IdTokenHints {
  constructor(
    private readonly keys: KeyStore,
    private readonly issuer: string,
  ) {}

  async verify(hint: string): Promise<IdTokenHint> {
    const invalid = () => new InvalidRequest('id_token_hint is not an ID token issued by this server');
    // Our ID tokens are about 1 KB; the endpoints bound every parameter to this already.
    if (hint.length > MAX_PARAMETER_LENGTH) throw invalid();
    let header: { kid?: unknown; typ?: unknown };
    try {
      header = decodeProtectedHeader(hint);
    } catch {
      throw invalid();
    }
    const key = typeof header.kid === 'string' ? this.keys.verificationKey(header.kid) : undefined;
    // Only ID tokens (typ JWT): not access tokens (at+jwt), logout tokens (logout+jwt) or signed
    // introspection responses. typ is attacker-chosen here: any type may arrive.
    if (key === undefined || typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT') throw invalid();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(hint, key.key, {
        issuer: this.issuer,
        algorithms: [key.alg],
        // RP-Initiated Logout §2, OIDC Core §3.1.2.1: an expired ID token is still a good hint.
        currentDate: new Date(0),
        requiredClaims: ['aud', 'sub'],
      }));
    } catch {
      throw invalid();
    }
    const { sub, aud, sid } = payload;
    const audience = typeof aud === 'string' ? [aud] : aud;
    if (typeof sub !== 'string' || sub.length === 0) throw invalid();
    if (!Array.isArray(audience) || audience.length === 0 || !audience.every((value) => typeof value === 'string')) throw invalid();
    if (sid !== undefined && typeof sid !== 'string') throw invalid();
    return { sub, aud: audience as string[], sid: typeof sid === 'string' ? sid : undefined };
  }
}
