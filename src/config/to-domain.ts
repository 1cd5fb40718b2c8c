import type { Client } from '../domain/client.js';
import { parseScope } from '../domain/scope.js';
import { sha256 } from '../protocol/random.js';
import { grantTypesOf, type ClientConfig, type ClientShape } from './schema.js';

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
    rolesClaim: entry.roles_claim,
  };
}

/** One key of a client's jwks, as config.yaml's schema types it. */
type ConfigJwk = NonNullable<ClientShape['jwks']>['keys'][number];

/**
 * A domain Client back to config.yaml's wire form, without the secret: what the management API
 * shows and what a PATCH merges into before the whole entry is validated again. Defaults come
 * back explicit (grant_types, introspection_signed_response_alg). Roles are given apart (RoleAdmin).
 */
export function clientToConfig(client: Client): Omit<ClientShape, 'client_secret' | 'roles'> {
  return dropUndefined({
    client_id: client.clientId,
    client_name: client.clientName,
    profile: client.profile,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    redirect_uris: [...client.redirectUris],
    post_logout_redirect_uris: [...client.postLogoutRedirectUris],
    grant_types: [...client.grantTypes],
    scope: client.scopes.join(' '),
    require_consent: client.requireConsent,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    // Validated as config.yaml's jwk members when stored (strings, numbers, booleans, string arrays).
    jwks: client.jwks === undefined ? undefined : { keys: client.jwks.keys.map((key) => ({ ...key }) as ConfigJwk) },
    jwks_uri: client.jwksUri,
    resources: [...client.resources],
    resource_server: client.resourceServer,
    introspection_signed_response_alg: client.introspectionSignedResponseAlg,
    introspection_audiences: [...client.introspectionAudiences],
    backchannel_logout_uri: client.backchannelLogoutUri,
    // Rows stored before the setting existed have none: the strict default.
    client_assertion_audience: client.clientAssertionAudience ?? 'issuer',
    roles_claim: client.rolesClaim ?? false,
  });
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}
