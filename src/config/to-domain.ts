import type { Client } from '../domain/client.js';
import { parseScope } from '../domain/scope.js';
import { sha256 } from '../protocol/random.js';
import { grantTypesOf, type ClientConfig } from './schema.js';

/** config.yaml's client entry (wire names) → the domain Client; the secret becomes a digest. */
export function clientFromConfig(entry: ClientConfig): Client {
  return {
    clientId: entry.client_id,
    clientName: entry.client_name,
    profile: entry.profile,
    tokenEndpointAuthMethod: entry.token_endpoint_auth_method,
    secretDigest: entry.client_secret === undefined ? undefined : sha256(entry.client_secret),
    redirectUris: entry.redirect_uris,
    postLogoutRedirectUris: entry.post_logout_redirect_uris,
    grantTypes: [...new Set(grantTypesOf(entry))],
    scopes: parseScope(entry.scope) ?? [],
    requireConsent: entry.require_consent,
    idTokenSignedResponseAlg: entry.id_token_signed_response_alg,
    jwks: entry.jwks as Client['jwks'],
    jwksUri: entry.jwks_uri,
    resources: entry.resources,
    resourceServer: entry.resource_server,
    // RFC 9701 §6 defaults to RS256; FAPI 2.0 §5.4 excludes it, so fapi2 clients default to PS256.
    introspectionSignedResponseAlg: entry.introspection_signed_response_alg ?? (entry.profile === 'fapi2' ? 'PS256' : 'RS256'),
    backchannelLogoutUri: entry.backchannel_logout_uri,
    introspectionAudiences: [...new Set(entry.introspection_audiences)],
    clientAssertionAudience: entry.client_assertion_audience,
  };
}
