import { SIGNING_ALGS, TOKEN_ENDPOINT_AUTH_METHODS, type Client } from '../../domain/client.js';
import { CLIENT_ASSERTION_ALGS } from '../../protocol/client-assertion.js';
import { DPOP_SIGNING_ALGS } from '../../protocol/dpop.js';
import { CLAIMS_BY_SCOPE, STANDARD_SCOPES } from '../../domain/scope.js';
import { PROMPT_VALUES } from '../../domain/authorization-request.js';
import { CODE_CHALLENGE_METHODS_SUPPORTED } from '../../protocol/pkce.js';
import { GRANT_TYPES_SUPPORTED } from '../grants/index.js';
import type { ClientAuthenticatedEndpoint } from '../ports/rate-limiter.js';

/** Endpoint paths, relative to the issuer (contract: default paths). */
export const PATHS = {
  authorization: '/auth',
  pushedAuthorizationRequest: '/par',
  token: '/token',
  revocation: '/revoke',
  introspection: '/introspect',
  endSession: '/logout',
  userinfo: '/userinfo',
  jwks: '/.well-known/jwks.json',
} as const;

/** Where each endpoint that authenticates clients is (rate limits and metrics name them so). */
export const CLIENT_AUTHENTICATED_PATHS: Readonly<Record<ClientAuthenticatedEndpoint, string>> = {
  token: PATHS.token,
  par: PATHS.pushedAuthorizationRequest,
  introspect: PATHS.introspection,
  revoke: PATHS.revocation,
};

/**
 * OpenID Connect Discovery 1.0 §3 / RFC 8414 §2 metadata. Lists only what the server
 * really does; built once, rebuilt when clients or keys change.
 */
export function buildDiscoveryDocument(
  issuer: string,
  clients: readonly Client[],
  languages: readonly string[],
  options: { parRequired: boolean },
): Record<string, unknown> {
  const customScopes = [...new Set(clients.flatMap((c) => c.scopes))].filter((s) => !(STANDARD_SCOPES as readonly string[]).includes(s)).sort();
  return {
    issuer,
    authorization_endpoint: issuer + PATHS.authorization,
    // RFC 9126 §5
    pushed_authorization_request_endpoint: issuer + PATHS.pushedAuthorizationRequest,
    require_pushed_authorization_requests: options.parRequired,
    token_endpoint: issuer + PATHS.token,
    userinfo_endpoint: issuer + PATHS.userinfo,
    // RFC 7009, RFC 7662, RFC 9701
    revocation_endpoint: issuer + PATHS.revocation,
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    introspection_endpoint: issuer + PATHS.introspection,
    introspection_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS.filter((m) => m !== 'none'),
    introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    introspection_signing_alg_values_supported: [...SIGNING_ALGS],
    // OIDC RP-Initiated Logout 1.0 §2.1, Back-Channel Logout 1.0 §2.1
    end_session_endpoint: issuer + PATHS.endSession,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: false,
    jwks_uri: issuer + PATHS.jwks,
    scopes_supported: [...STANDARD_SCOPES, ...customScopes],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...GRANT_TYPES_SUPPORTED],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...SIGNING_ALGS],
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    // RFC 9449 §5.1
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    code_challenge_methods_supported: [...CODE_CHALLENGE_METHODS_SUPPORTED],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'azp', 'sid', ...Object.values(CLAIMS_BY_SCOPE).flat()],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    prompt_values_supported: [...PROMPT_VALUES],
    ui_locales_supported: [...languages],
    // RFC 9207: every authorization response carries iss.
    authorization_response_iss_parameter_supported: true,
  };
}
