import { isPublicClient } from '../../domain/client.js';
import type { DpopProof } from '../../protocol/dpop.js';
import { MAX_QUOTED_URI_LENGTH, quoteInput } from '../../protocol/error-description.js';
import { InvalidDpopProof, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../../protocol/errors.js';
import { replayOwner, type ClientAuthenticator } from '../services/client-authenticator.js';
import type { DpopVerifier } from '../services/dpop-verifier.js';
import { authorizationCodeGrant } from './authorization-code.js';
import { clientCredentialsGrant } from './client-credentials.js';
import { refreshTokenGrant } from './refresh-token.js';
import type { Grant, GrantDeps, TokenResponse } from './grant.js';

/** The grants this server implements; discovery's grant_types_supported is read from here. */
export const GRANTS: ReadonlyMap<string, Grant> = new Map(
  [authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant].map((grant) => [grant.grantType, grant]),
);

const NOTHING_TO_CONSUME = async (): Promise<void> => undefined;

export const GRANT_TYPES_SUPPORTED: readonly string[] = [...GRANTS.keys()];

/**
 * The token endpoint (RFC 6749 §3.2): authenticate the client, remember its DPoP proof (in the
 * client's share of the replay cache, never before the client is known; for a public client only
 * once its grant's checks passed), then run its grant.
 */
export async function exchange(
  input: {
    authorization: string | undefined;
    params: Readonly<Record<string, string | undefined>>;
    /** RFC 8707: the only parameter that may be repeated. */
    resources: readonly string[];
    ip: string;
    userAgent?: string | undefined;
    /** The token endpoint's URL (an accepted client assertion aud for `oidc` clients). */
    endpoint: string;
    dpop: DpopProof | undefined;
  },
  authenticator: ClientAuthenticator,
  deps: GrantDeps,
  proofs: DpopVerifier,
): Promise<TokenResponse> {
  const grantType = input.params.grant_type;
  if (grantType === undefined) throw new InvalidRequest('grant_type is required');
  const grant = GRANTS.get(grantType);
  if (grant === undefined) throw new UnsupportedGrantType(`grant_type ${quoteInput(grantType, MAX_QUOTED_URI_LENGTH)} is not supported`);
  const client = await authenticator.authenticate(input.authorization, input.params, input.endpoint);
  if (client.resourceServer || !client.grantTypes.includes(grant.grantType)) {
    throw new UnauthorizedClient(`the client is not allowed to use the ${grant.grantType} grant`);
  }
  // FAPI 2.0 §5.3.2.1: only sender-constrained access tokens (DPoP here; mTLS is not offered).
  if (client.profile === 'fapi2' && input.dpop === undefined) {
    throw new InvalidDpopProof('a DPoP proof is required: this client only receives sender-constrained tokens');
  }
  // RFC 9449 §11.1: single use, remembered only once the caller is known to be entitled. A
  // confidential client proved it with its credentials: now (client_credentials stays a Map
  // lookup). A public client proved nothing yet (anyone can send client_id=spa): its grant calls
  // consumeProof once the code or refresh token, its PKCE verifier and DPoP binding checked out.
  const { dpop } = input;
  let consumeProof = NOTHING_TO_CONSUME;
  if (dpop !== undefined) {
    const owner = replayOwner(client);
    if (isPublicClient(client)) consumeProof = () => proofs.remember(dpop, owner);
    else await proofs.remember(dpop, owner);
  }
  return grant.handle({ client, params: input.params, resources: input.resources, ip: input.ip, userAgent: input.userAgent, dpop, consumeProof }, deps);
}
