// node-oidc-provider (panva), configured like the Trusty bench config: the reference the
// benchmark compares against. Started by bench/run.ts with its config in REF_CONFIG.
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.REF_CONFIG);
const API = config.resource;
const OPAQUE_API = config.opaqueResource;
const scope = 'invoices:read invoices:write';

const clients = [
  { client_id: 'svc-basic', client_secret: config.secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope, token_endpoint_auth_method: 'client_secret_basic' },
  {
    client_id: 'svc-jwt',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [config.clientJwk] },
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope,
  },
  { client_id: 'introspector', client_secret: config.secret, grant_types: [], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' },
  {
    client_id: 'bank',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [config.clientJwk] },
    redirect_uris: [config.callback],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    require_pushed_authorization_requests: true,
    dpop_bound_access_tokens: true,
  },
];

const provider = new Provider(config.issuer, {
  // One ES256 signing key, as Trusty signs access and ID tokens with ES256 by default.
  clients: clients.map((client) => ({ id_token_signed_response_alg: 'ES256', ...client })),
  jwks: { keys: [config.signingJwk] },
  scopes: ['openid', 'invoices:read', 'invoices:write'],
  pkce: { required: () => true },
  enabledJWA: { clientAuthSigningAlgValues: ['ES256', 'PS256', 'EdDSA'], dPoPSigningAlgValues: ['ES256', 'PS256', 'EdDSA'] },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    pushedAuthorizationRequests: { enabled: true },
    dPoP: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => API,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) =>
        resource === OPAQUE_API
          ? { scope, accessTokenFormat: 'opaque' }
          : { scope, audience: API, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } },
  },
  },
  // The user consents once and for all, as Trusty's bench clients need no consent page.
  async loadExistingGrant(ctx) {
    const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid');
    await grant.save();
    return grant;
  },
  async findAccount(_ctx, sub) {
    return { accountId: sub, claims: () => ({ sub }) };
  },
});
provider.proxy = false;
const server = provider.listen(config.port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
