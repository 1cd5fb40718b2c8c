import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessTokenClaims } from '../application/services/access-token-verifier.js';
import { replayOwner } from '../application/services/client-authenticator.js';
import type { Client } from '../domain/client.js';
import { InvalidDpopProof, InvalidToken } from '../protocol/errors.js';
import type { HttpDeps } from './deps.js';
import { addDpopNonce } from './dpop.js';
import { MissingAccessToken } from './plugins/error-handler.js';

// RFC 6750 §2.1 and RFC 9449 §7.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const AUTHORIZATION = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The token an Authorization header carries with the Bearer (RFC 6750 §2.1) or DPoP (RFC 9449
 * §7.1) scheme, the scheme matched without regard to case (RFC 9110 §11.1); undefined when the
 * header is absent, names another scheme or is not a token68. Shared by every protected
 * resource of this server (and /metrics' static token), so all read the header alike.
 */
export function presentedToken(authorization: string | undefined): { readonly scheme: 'Bearer' | 'DPoP'; readonly token: string } | undefined {
  const match = authorization === undefined ? null : AUTHORIZATION.exec(authorization);
  if (match === null) return undefined;
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2]! };
}

/**
 * The access token of a request to one of this server's protected resources (/userinfo, the
 * management API): a Bearer token (RFC 6750 §2.1), or a DPoP-bound one with its proof
 * (RFC 9449 §7), the proof then remembered in its client's share of the replay cache.
 * @param url the resource's URL, which the proof's htu must name
 * @param missing the description when no Authorization header was sent
 */
export async function accessTokenOf(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: HttpDeps,
  url: string,
  missing: string,
): Promise<{ token: AccessTokenClaims; client: Client }> {
  const authorization = request.headers.authorization;
  if (authorization === undefined) throw new MissingAccessToken(missing);
  const presented = presentedToken(authorization);
  if (presented === undefined) throw new InvalidToken('the Authorization header must be Bearer <access token> or DPoP <access token>');
  const accessToken = presented.token;
  const token = await deps.accessTokens.verify(accessToken);
  // verify() refused a token whose client is disabled: it is there, unless removed meanwhile.
  const client = await deps.clients.findById(token.clientId);
  if (client === undefined) throw new InvalidToken('the client of this access token is disabled');
  if (presented.scheme === 'DPoP') {
    // RFC 9449 §7.1: the proof covers this request and this token (ath), with the token's key.
    const proof = await deps.dpop.verify(request.headers.dpop, { method: request.method, url, accessToken });
    if (proof === undefined) throw new InvalidDpopProof('a DPoP proof is required with the DPoP authorization scheme');
    if (token.jkt === undefined) throw new InvalidToken('the access token is not DPoP-bound: use the Bearer scheme', 'DPoP');
    if (proof.jkt !== token.jkt) throw new InvalidToken('the DPoP proof key does not match the key the access token is bound to', 'DPoP');
    // RFC 9449 §11.1: remembered once the token is verified.
    await deps.dpop.remember(proof, replayOwner(client));
    addDpopNonce(reply, deps, true);
  } else if (token.jkt !== undefined) {
    // RFC 9449 §7.2: a DPoP-bound token sent as a Bearer token is refused.
    throw new InvalidToken('the access token is DPoP-bound: use the DPoP authorization scheme with a proof', 'DPoP');
  }
  return { token, client };
}
