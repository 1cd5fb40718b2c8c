/** A registered relying party, as the rest of the code sees it (no rows, no wire names). */
export type ClientProfile = 'oidc' | 'fapi2';

export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

export const SIGNING_ALGS = ['ES256', 'PS256', 'RS256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
/** FAPI 2.0 Security Profile §5.4: PS256, ES256 or EdDSA only. */
export const FAPI2_SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'PS256', 'EdDSA'];

/**
 * What a client assertion's aud may be (config client_assertion_audience): `issuer`, the issuer
 * identifier as a single string (the default, and the only choice for fapi2); `lenient`, UNSAFE,
 * also the token endpoint or called endpoint URL, or an array holding one, as RFC 7523 §3 (3)
 * allowed before draft-ietf-oauth-rfc7523bis fixed audience injection.
 */
export type ClientAssertionAudience = 'issuer' | 'lenient';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface Client {
  readonly clientId: string;
  readonly clientName: string | undefined;
  readonly profile: ClientProfile;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** SHA-256 (base64url) of the client secret; undefined unless client_secret_*. */
  readonly secretDigest: string | undefined;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  readonly grantTypes: readonly GrantType[];
  /** Scopes the client may ask for. */
  readonly scopes: readonly string[];
  readonly requireConsent: boolean;
  readonly idTokenSignedResponseAlg: SigningAlg;
  readonly jwks: { keys: Record<string, unknown>[] } | undefined;
  readonly jwksUri: string | undefined;
  /** RFC 8707 resources (access token audiences) the client may ask for. */
  readonly resources: readonly string[];
  /** An introspection-only client (a resource server): it may call /introspect and nothing else. */
  readonly resourceServer: boolean;
  /**
   * When the client was created or last enabled again after being disabled (seconds); tokens
   * issued before it belong to a disabled client or to a deleted one of the same client_id, and
   * stay dead. Undefined: rows created before migration 0012 and never disabled.
   */
  readonly enabledSince?: number | undefined;
  /** RFC 9701 §6: the alg of signed introspection responses for this client. */
  readonly introspectionSignedResponseAlg: SigningAlg;
  /**
   * RFC 7662 §4, resource servers only: the access token audiences (aud values) whose tokens
   * this client may introspect, besides tokens issued to it or naming it in aud.
   */
  readonly introspectionAudiences: readonly string[];
  /** private_key_jwt: what the assertion's aud may be (see ClientAssertionAudience). */
  readonly clientAssertionAudience: ClientAssertionAudience;
  /** OIDC Back-Channel Logout §2.2 */
  readonly backchannelLogoutUri: string | undefined;
  /** Access tokens issued to this client carry a `roles` claim (RFC 9068 §2.2.3.1; src/domain/role.ts). */
  readonly rolesClaim?: boolean | undefined;
  /**
   * After a secret rotation, the previous secret's digest, accepted until `expiresAt` (seconds)
   * so that the client's instances can move to the new secret without an outage.
   */
  readonly previousSecret?: { readonly digest: string; readonly expiresAt: number } | undefined;
  /** When the client stops working (seconds): it no longer authenticates and its tokens die. */
  readonly expiresAt?: number | undefined;
}

/** Whether the client's expiry date (a service account's, typically) has passed at `now` (seconds). */
export function isExpired(client: Client, now: number): boolean {
  return client.expiresAt !== undefined && now >= client.expiresAt;
}

/**
 * After a secret rotation the previous secret stays valid this long by default (24 h: time for
 * every instance of the client to pick the new one up), at most SECRET_GRACE_MAX (30 days).
 */
export const SECRET_GRACE_DEFAULT = 86_400;
export const SECRET_GRACE_MAX = 2_592_000;

/** Whether the client authenticates with a shared secret (RFC 6749 §2.3.1). */
export function usesSecret(method: TokenEndpointAuthMethod): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post';
}

export function isPublicClient(client: Client): boolean {
  return client.tokenEndpointAuthMethod === 'none';
}

/**
 * RFC 9126 §5–6: whether authorization requests must be pushed. FAPI 2.0 §5.3.2.2 requires
 * PAR for its clients; `everyone` is the server-wide setting (config par.required).
 */
export function requiresPushedRequests(client: Client, everyone: boolean): boolean {
  return everyone || client.profile === 'fapi2';
}
