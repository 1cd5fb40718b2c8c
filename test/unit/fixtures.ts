import type { AuthorizationRequest } from '../../src/domain/authorization-request.js';
import type { Client } from '../../src/domain/client.js';

/** A registered client as the domain sees it; `over` changes what a test needs. */
export function client(over: Partial<Client> = {}): Client {
  return {
    clientId: 'app',
    clientName: 'App',
    profile: 'oidc',
    tokenEndpointAuthMethod: 'client_secret_basic',
    secretDigest: 'digest',
    redirectUris: ['https://app.example/cb'],
    postLogoutRedirectUris: [],
    grantTypes: ['authorization_code'],
    scopes: ['openid', 'profile', 'email'],
    requireConsent: false,
    idTokenSignedResponseAlg: 'ES256',
    jwks: undefined,
    jwksUri: undefined,
    resources: [],
    resourceServer: false,
    introspectionSignedResponseAlg: 'RS256',
    introspectionAudiences: [],
    backchannelLogoutUri: undefined,
    clientAssertionAudience: 'issuer',
    ...over,
  };
}

export function authorizationRequest(over: Partial<AuthorizationRequest> = {}): AuthorizationRequest {
  return {
    clientId: 'app',
    redirectUri: 'https://app.example/cb',
    scopes: ['openid'],
    state: undefined,
    nonce: undefined,
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    prompt: [],
    maxAge: undefined,
    uiLocales: undefined,
    loginHint: undefined,
    ...over,
  };
}

/** A clock a unit test moves by hand: `c.now = …`; pass `c.fn` where a `() => number` is wanted. */
export function manualClock(start = 1000) {
  const c = { now: start, fn: () => c.now };
  return c;
}
