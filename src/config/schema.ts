import { isIP } from 'node:net';
import { z } from 'zod';
import { SIGNING_ALGS, TOKEN_ENDPOINT_AUTH_METHODS, GRANT_TYPES, FAPI2_SIGNING_ALGS, type GrantType } from '../domain/client.js';
import { parseScope } from '../domain/scope.js';
import { PASSWORD_MAX_BYTES, USER_CLAIMS_MAX_LENGTH, USERNAME_MAX_LENGTH } from '../domain/user.js';
import { MAX_ROLE_DESCRIPTION, MAX_ROLE_RESOURCES, MAX_ROLE_SCOPES, MAX_ROLES, MAX_ROLES_PER_PRINCIPAL, ROLE_NAME, ROLE_NAME_RULE } from '../domain/role.js';
import { hasPrivateMembers } from '../protocol/jwk.js';
import { isLoopbackHost } from '../protocol/redirect-uri.js';

/**
 * config.yaml, validated. Every key has its default and meaning here; the README's
 * configuration reference mirrors this file. Unknown keys are errors (a typo must not
 * silently fall back to a default).
 */

const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:']);

const absoluteUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return !FORBIDDEN_SCHEMES.has(url.protocol) && url.hash === '' && !value.includes('#');
    } catch {
      return false;
    }
  },
  { message: 'must be an absolute URL without a fragment' },
);

const scopeString = z.string().refine((s) => parseScope(s) !== undefined && s.trim() !== '', {
  message: 'must be space-separated scope tokens (RFC 6749 §3.3)',
});

const ttl = (def: number, min: number, max: number, what: string) =>
  z.number().int().min(min).max(max).default(def).describe(`${what}, in seconds (${min}–${max}, default ${def})`);

/** A request count per rate-limit window. */
const perWindow = (def: number, what: string) => z.number().int().min(1).max(10_000_000).default(def).describe(`${what} (default ${def})`);

/** An IPv4/IPv6 address, or a CIDR range (`10.0.0.0/8`, `fd00::/8`), or loopback/linklocal/uniquelocal (proxy-addr's names). */
const proxyAddress = z.string().refine(
  (value) => {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(value)) return true;
    const [address, bits, ...rest] = value.split('/');
    const version = isIP(address ?? '');
    if (version === 0 || rest.length > 0) return false;
    if (bits === undefined) return true;
    // A /0 (or /1…/7) trusts much of the Internet: anyone could then choose the address it is counted as.
    return /^\d{1,3}$/.test(bits) && Number(bits) >= 8 && Number(bits) <= (version === 4 ? 32 : 128);
  },
  { message: 'must be an IP address, a CIDR range of at least /8 (10.0.0.0/8) or loopback, linklocal, uniquelocal' },
);

/** A resource server serves a handful of audiences; the list is scanned on every introspection. */
const MAX_INTROSPECTION_AUDIENCES = 50;

/** A public JWK (RFC 7517), as each of a client's `jwks.keys`; the management API adds keys with it. */
/** RFC 7517 §4: a public JWK's members are strings, numbers, booleans (ext) or arrays of strings (key_ops, x5c). */
const jwkMember = z.union([z.string().max(16_384), z.number(), z.boolean(), z.array(z.string().max(16_384)).max(20)]);

export const jwk = z
  .record(z.string().max(64), jwkMember)
  .refine((key) => typeof key.kty === 'string', { message: 'must have a kty' })
  .refine((key) => !hasPrivateMembers(key), { message: 'must be a public key (no d, p, q, dp, dq, qi, k)' });

/** Roles (src/domain/role.ts); the management API validates roles with the same schemas. */
export const roleName = z.string().regex(ROLE_NAME, ROLE_NAME_RULE);

export const roleSchema = z.strictObject({
  name: roleName.describe('Unique role name'),
  description: z.string().max(MAX_ROLE_DESCRIPTION).optional(),
  scope: z
    .string()
    .max(4000)
    .refine((s) => parseScope(s) !== undefined, { message: 'must be space-separated scope tokens (RFC 6749 §3.3)' })
    .refine((s) => (parseScope(s) ?? []).length <= MAX_ROLE_SCOPES, { message: `must name at most ${MAX_ROLE_SCOPES} scopes` })
    .default('')
    .describe('The scopes the role lets a client ask for (client_credentials), on top of its own'),
  resources: z.array(absoluteUrl).max(MAX_ROLE_RESOURCES).default([]).describe('RFC 8707 resources the role lets a client ask for, on top of its own'),
});

const principalRoles = z.array(roleName).max(MAX_ROLES_PER_PRINCIPAL).default([]);

/** A client entry's fields, without the rules that tie them together (the API derives its schemas from this). */
export const clientShape = z.strictObject({
    client_id: z
      .string()
      .regex(/^[A-Za-z0-9._:~-]{1,128}$/, 'must be 1–128 characters of A–Z a–z 0–9 . _ : ~ -')
      .describe('Unique client identifier'),
    client_name: z.string().max(200).optional().describe('Name shown on the consent page'),
    profile: z.enum(['oidc', 'fapi2']).default('oidc').describe('oidc, or fapi2 to enforce the FAPI 2.0 rules'),
    token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS).default('client_secret_basic'),
    client_secret: z.string().min(1).max(512).optional().describe('Only for client_secret_*; stored as a SHA-256 digest'),
    redirect_uris: z.array(absoluteUrl).max(50).default([]),
    post_logout_redirect_uris: z.array(absoluteUrl).max(50).default([]),
    grant_types: z.array(z.enum(GRANT_TYPES)).optional().describe('Default [authorization_code]; none for a resource_server client'),
    scope: scopeString.default('openid').describe('The scopes the client may ask for'),
    require_consent: z.boolean().default(true).describe('Show the consent page (remembered per user and client)'),
    id_token_signed_response_alg: z.enum(SIGNING_ALGS).default('ES256'),
    jwks: z.strictObject({ keys: z.array(jwk).min(1).max(20) }).optional(),
    jwks_uri: absoluteUrl.optional(),
    resources: z.array(absoluteUrl).max(50).default([]).describe('RFC 8707 resources (token audiences) the client may ask for'),
    resource_server: z.boolean().default(false).describe('An introspection-only client: it may call /introspect and nothing else'),
    introspection_signed_response_alg: z.enum(SIGNING_ALGS).optional().describe('RFC 9701 signed introspection responses (RS256 by default, PS256 for fapi2)'),
    introspection_audiences: z
      .array(absoluteUrl)
      .max(MAX_INTROSPECTION_AUDIENCES)
      .default([])
      .describe(
        'resource_server only: the access token audiences (RFC 8707 resources, or the issuer for tokens meant for /userinfo) ' +
          'whose tokens it may introspect (RFC 7662 §4); default none',
      ),
    backchannel_logout_uri: absoluteUrl.optional().describe('Where logout tokens are POSTed (OIDC Back-Channel Logout)'),
    client_assertion_audience: z
      .enum(['issuer', 'lenient'])
      .default('issuer')
      .describe(
        'private_key_jwt: issuer (default) accepts only the issuer identifier, as a single string, as aud (draft-ietf-oauth-rfc7523bis); ' +
          'lenient also the token endpoint or called endpoint URL, or an array holding one: UNSAFE (audience injection), oidc clients only',
      ),
    roles: principalRoles.describe('Roles (of the top-level roles: list) given to the client: client_credentials may also ask for their scopes and resources'),
    roles_claim: z.boolean().default(false).describe('Access tokens issued to the client carry a roles claim (its roles, or the user\'s for user tokens)'),
});

export type ClientShape = z.infer<typeof clientShape>;

/** The rules between a client's fields (config.yaml and the management API apply the same). */
export function clientRules(client: ClientShape, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  const grantTypes = grantTypesOf(client);
  const method = client.token_endpoint_auth_method;
  const usesSecret = method === 'client_secret_basic' || method === 'client_secret_post';
  if (usesSecret && client.client_secret === undefined) {
    issue('client_secret', `is required with token_endpoint_auth_method ${method}`);
  }
  if (!usesSecret && client.client_secret !== undefined) {
    issue('client_secret', `must not be set with token_endpoint_auth_method ${method}`);
  }
  if (method === 'private_key_jwt' && client.jwks === undefined && client.jwks_uri === undefined) {
    issue('jwks', 'or jwks_uri is required with private_key_jwt');
  }
  if (client.jwks !== undefined && client.jwks_uri !== undefined) {
    issue('jwks_uri', 'must not be set together with jwks');
  }
  if (grantTypes.includes('authorization_code') && client.redirect_uris.length === 0) {
    issue('redirect_uris', 'needs at least one URI for the authorization_code grant');
  }
  if (grantTypes.includes('client_credentials') && method === 'none') {
    issue('grant_types', 'client_credentials needs a confidential client (token_endpoint_auth_method is none)');
  }
  if (grantTypes.length === 0 && !client.resource_server) {
    issue('grant_types', 'must list at least one grant type (or set resource_server: true)');
  }
  if (client.resource_server && grantTypes.length > 0) {
    issue('grant_types', 'must be empty for a resource_server client (it may only introspect)');
  }
  if (client.resource_server && method === 'none') {
    issue('resource_server', 'needs a confidential client (token_endpoint_auth_method is none)');
  }
  // A resource_server may call /introspect only: nothing to redirect to or to notify.
  if (client.resource_server) {
    if (client.redirect_uris.length > 0) issue('redirect_uris', 'must be empty for a resource_server client (it may only introspect)');
    if (client.post_logout_redirect_uris.length > 0) issue('post_logout_redirect_uris', 'must be empty for a resource_server client (it may only introspect)');
    if (client.backchannel_logout_uri !== undefined) issue('backchannel_logout_uri', 'must not be set for a resource_server client (it may only introspect)');
  }
  // RFC 7662 §4: other clients already see their own tokens and those naming them in aud.
  if (!client.resource_server && client.introspection_audiences.length > 0) {
    issue('introspection_audiences', 'is only for a resource_server client (a client sees the tokens issued to it and those naming it in aud)');
  }
  if (client.profile === 'fapi2') {
    // FAPI 2.0 §5.3.2.1: the issuer identifier alone, as a single string.
    if (client.client_assertion_audience !== 'issuer') {
      issue('client_assertion_audience', 'must be issuer for a fapi2 client');
    }
    if (client.introspection_signed_response_alg !== undefined && !FAPI2_SIGNING_ALGS.includes(client.introspection_signed_response_alg)) {
      issue('introspection_signed_response_alg', 'must be PS256, ES256 or EdDSA for a fapi2 client');
    }
    // FAPI 2.0 Security Profile §5.3.2.1 (confidential clients only) and §5.3.1.1 (auth methods).
    if (method !== 'private_key_jwt') {
      issue('token_endpoint_auth_method', 'must be private_key_jwt for a fapi2 client');
    }
    if (!FAPI2_SIGNING_ALGS.includes(client.id_token_signed_response_alg)) {
      issue('id_token_signed_response_alg', 'must be PS256, ES256 or EdDSA for a fapi2 client');
    }
    client.redirect_uris.forEach((uri, i) => {
      const url = new URL(uri);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
        ctx.addIssue({ code: 'custom', path: ['redirect_uris', i], message: 'must be https (http only for loopback) for a fapi2 client' });
      }
    });
  }
}

export const clientSchema = clientShape.superRefine(clientRules);

/** A client's grant types: as listed, else none for a resource server and the code grant otherwise. */
export function grantTypesOf(client: { grant_types?: readonly GrantType[] | undefined; resource_server: boolean }): GrantType[] {
  return [...(client.grant_types ?? (client.resource_server ? [] : ['authorization_code']))];
}

export const userSchema = z.strictObject({
  username: z.string().min(1).max(USERNAME_MAX_LENGTH),
  password: z
    .string()
    .min(1)
    .refine((p) => Buffer.byteLength(p, 'utf8') <= PASSWORD_MAX_BYTES, { message: `must be at most ${PASSWORD_MAX_BYTES} bytes (bcrypt limit)` }),
  claims: z
    .record(z.string(), z.unknown())
    .refine((claims) => JSON.stringify(claims).length <= USER_CLAIMS_MAX_LENGTH, { message: `must be at most ${USER_CLAIMS_MAX_LENGTH} characters as JSON` })
    .default({})
    .describe('Standard claims (OIDC Core §5.1) released by scope'),
  roles: principalRoles.describe('Roles (of the top-level roles: list) given to the user: the roles claim of its tokens'),
});

export const configSchema = z
  .strictObject({
    issuer: absoluteUrl
      .refine((v) => !v.endsWith('/') && !v.includes('?'), { message: 'must have no trailing slash and no query' })
      .refine(
        (v) => {
          // Refinements all run: a value the first one refused may not parse at all.
          const url = URL.parse(v);
          return url === null || url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
        },
        { message: 'must be https (http only on a loopback host)' },
      )
      .default('http://127.0.0.1:8081')
      .describe('Issuer identifier; every endpoint URL derives from it. Default http://<host>:<port> (src/config/load.ts defaultIssuer)'),
    port: z.number().int().min(0).max(65535).default(8081),
    host: z.string().min(1).default('127.0.0.1').describe('Interface to listen on'),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    database: z.strictObject({ path: z.string().min(1).default('./data/trusty.db') }).default({ path: './data/trusty.db' }),
    tokens: z
      .strictObject({
        access_token_ttl: ttl(600, 30, 86400, 'Access token lifetime'),
        id_token_ttl: ttl(600, 30, 86400, 'ID token lifetime'),
        // FAPI 2.0 §5.3.2.1: authorization codes live at most 60 s.
        authorization_code_ttl: ttl(60, 5, 60, 'Authorization code lifetime'),
        refresh_token_ttl: ttl(2592000, 60, 31536000, 'Refresh token lifetime (absolute, for the whole rotation family)'),
        refresh_token_idle_ttl: ttl(1209600, 60, 31536000, 'A refresh token unused this long expires'),
        rotate_fapi2_refresh_tokens: z.boolean().default(false).describe('Rotate refresh tokens of fapi2 confidential clients too (FAPI 2.0 advises not to)'),
      })
      .default({
        access_token_ttl: 600,
        id_token_ttl: 600,
        authorization_code_ttl: 60,
        refresh_token_ttl: 2592000,
        refresh_token_idle_ttl: 1209600,
        rotate_fapi2_refresh_tokens: false,
      }),
    session: z
      .strictObject({
        ttl: ttl(28800, 60, 2592000, 'SSO session lifetime'),
        interaction_ttl: ttl(900, 60, 3600, 'Time allowed to finish login and consent'),
      })
      .default({ ttl: 28800, interaction_ttl: 900 }),
    passwords: z
      .strictObject({ bcrypt_cost: z.number().int().min(4).max(15).default(12) })
      .default({ bcrypt_cost: 12 }),
    audit: z
      .strictObject({
        retention_days: z.number().int().min(1).max(3650).default(90).describe('Audit events older than this are deleted'),
        // Anyone can cause a client.auth_failed row (about 0.1 GB a day at its bound: docs/audit.md).
        failed_auth_retention_days: z.number().int().min(1).max(3650).optional().describe('client.auth_failed events older than this are deleted; default 7 (retention_days when shorter), at most retention_days'),
      })
      .refine((audit) => audit.failed_auth_retention_days === undefined || audit.failed_auth_retention_days <= audit.retention_days, {
        message: 'must be at most retention_days',
        path: ['failed_auth_retention_days'],
      })
      .transform((audit) => ({ ...audit, failed_auth_retention_days: audit.failed_auth_retention_days ?? Math.min(7, audit.retention_days) }))
      .default({ retention_days: 90, failed_auth_retention_days: 7 }),
    par: z
      .strictObject({
        // RFC 9126 §2.2: short-lived; FAPI 2.0 §5.3.2.2: under 600 s.
        request_uri_ttl: ttl(60, 5, 599, 'Lifetime of a pushed request_uri'),
        required: z.boolean().default(false).describe('Every client must use PAR (fapi2 clients always must)'),
      })
      .default({ request_uri_ttl: 60, required: false }),
    dpop: z
      .strictObject({
        require_nonce: z.boolean().default(true).describe('Proofs must carry a server-provided nonce (RFC 9449 §8)'),
        nonce_ttl: ttl(120, 10, 3600, 'How often the DPoP nonce rotates (the previous one stays valid as long again)'),
        proof_max_age: ttl(60, 5, 300, 'How long after its iat a DPoP proof is accepted'),
      })
      .default({ require_nonce: true, nonce_ttl: 120, proof_max_age: 60 }),
    // Signing key lifecycle (docs/keys.md): each algorithm's key is replaced on this interval.
    keys: z
      .strictObject({
        rotation_interval_days: z
          .number()
          .int()
          .min(1)
          .max(3650)
          .default(90)
          .describe('A signing key signs this many days, then its successor does (1–3650, default 90; `trusty keys rotate` rotates earlier)'),
        prepublish_hours: z
          .number()
          .int()
          .min(1)
          .max(720)
          .default(24)
          .describe('A new key is in the JWKS at least this many hours before it signs, so relying parties that cache the JWKS know it (1–720, default 24)'),
      })
      .refine((keys) => keys.prepublish_hours < keys.rotation_interval_days * 24, { message: 'must be shorter than rotation_interval_days (in hours)', path: ['prepublish_hours'] })
      .default({ rotation_interval_days: 90, prepublish_hours: 24 }),
    // Production settings (docs/operations.md).
    trust_proxy: z
      .array(proxyAddress)
      .max(100)
      .default([])
      .describe('Addresses or CIDR ranges of reverse proxies whose X-Forwarded-For/-Proto are believed (or TRUST_PROXY, comma-separated); default none'),
    shutdown: z
      .strictObject({ drain_seconds: z.number().int().min(1).max(300).default(10).describe('On SIGTERM, in-flight requests get this long to finish (1–300, default 10)') })
      .default({ drain_seconds: 10 }),
    metrics: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Serve GET /metrics (Prometheus text format)'),
        auth: z
          .enum(['none', 'token', 'admin'])
          .default('none')
          .describe('none: open; token: Authorization: Bearer <metrics.token>; admin: a management-API access token with trusty:metrics or trusty:admin'),
        token: z
          .string()
          .min(32)
          .max(512)
          // RFC 6750 §2.1: what a Bearer header can carry (a token68); any other character could never be presented.
          .regex(/^[A-Za-z0-9\-._~+/]+=*$/, 'must be characters of A–Z a–z 0–9 - . _ ~ + / (then = at the end only)')
          .optional()
          .describe('The bearer token for auth: token (or METRICS_TOKEN), at least 32 characters of A–Z a–z 0–9 - . _ ~ + /'),
        client_labels: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(100)
          .describe('The first this many clients seen get their own client_id label; the others share 16 hashed buckets (client_id="other-<n>")'),
      })
      .refine((m) => m.auth !== 'token' || m.token !== undefined, { message: 'is required with metrics.auth: token', path: ['token'] })
      .default({ enabled: true, auth: 'none', client_labels: 100 }),
    rate_limits: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Refuse requests beyond these numbers with 429 and Retry-After'),
        window_seconds: z.number().int().min(1).max(3600).default(60).describe('The window the numbers below count in'),
        per_ip: z
          .strictObject({
            auth: perWindow(300, 'GET/POST /auth from one address'),
            // A burst of 80 logins from one address (test/e2e/login-burst.test.ts, an office behind one
            // NAT at nine) passes; per-account guessing is stopped by lockout, not by this.
            login: perWindow(100, 'Login form posts from one address'),
            token: perWindow(3000, 'POST /token from one address'),
            par: perWindow(600, 'POST /par from one address'),
            introspect: perWindow(30_000, 'POST /introspect from one address'),
            revoke: perWindow(600, 'POST /revoke from one address'),
            // Only failures count: past it, the address is refused at those four endpoints before
            // any secret is checked, however many requests its other budgets still allow.
            failed_client_auth: perWindow(60, 'Failed client authentications at /token, /par, /introspect and /revoke from one address'),
          })
          .default({ auth: 300, login: 100, token: 3000, par: 600, introspect: 30_000, revoke: 600, failed_client_auth: 60 }),
        per_client: z
          .strictObject({
            token: perWindow(6000, 'POST /token by one authenticated client'),
            par: perWindow(600, 'POST /par by one authenticated client'),
            introspect: perWindow(30_000, 'POST /introspect by one authenticated client'),
            revoke: perWindow(600, 'POST /revoke by one authenticated client'),
          })
          .default({ token: 6000, par: 600, introspect: 30_000, revoke: 600 }),
      })
      .default({
        enabled: true,
        window_seconds: 60,
        per_ip: { auth: 300, login: 100, token: 3000, par: 600, introspect: 30_000, revoke: 600, failed_client_auth: 60 },
        per_client: { token: 6000, par: 600, introspect: 30_000, revoke: 600 },
      }),
    lockout: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Slow down, then lock, an account after repeated failed logins'),
        free_failures: z.number().int().min(1).max(100).default(5).describe('Failed logins in a row before any delay'),
        lock_after: z.number().int().min(2).max(1000).default(10).describe('Failed logins in a row that lock the account (each one after free_failures doubles the wait: 1 s, 2 s, 4 s…)'),
        lock_seconds: z.number().int().min(1).max(86_400).default(900).describe('How long the first lock lasts; each next failure locks again for twice as long, up to 24 h, until a success, an unlock, a password reset or 24 h without a failure (an operator unlocks earlier: trusty users unlock)'),
      })
      .refine((l) => l.lock_after > l.free_failures, { message: 'must be greater than free_failures', path: ['lock_after'] })
      .default({ enabled: true, free_failures: 5, lock_after: 10, lock_seconds: 900 }),
    clients: z.array(clientSchema).max(10000).default([]),
    users: z.array(userSchema).max(100000).default([]),
    roles: z.array(roleSchema).max(MAX_ROLES).default([]).describe('Roles owned by the file (see docs/roles.md)'),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.clients.forEach((c, i) => {
      if (seen.has(c.client_id)) {
        ctx.addIssue({ code: 'custom', path: ['clients', i, 'client_id'], message: `duplicates clients[${seen.get(c.client_id)}]` });
      }
      seen.set(c.client_id, i);
    });
    const users = new Map<string, number>();
    config.users.forEach((u, i) => {
      if (users.has(u.username)) {
        ctx.addIssue({ code: 'custom', path: ['users', i, 'username'], message: `duplicates users[${users.get(u.username)}]` });
      }
      users.set(u.username, i);
    });
    // Roles: names unique; clients and users may name only the file's roles (the API's are not known here).
    const roles = new Map<string, number>();
    config.roles.forEach((r, i) => {
      if (roles.has(r.name)) ctx.addIssue({ code: 'custom', path: ['roles', i, 'name'], message: `duplicates roles[${roles.get(r.name)}]` });
      roles.set(r.name, i);
    });
    const unknownRoles = (list: 'clients' | 'users', i: number, names: readonly string[]) =>
      names.forEach((name, j) => {
        if (!roles.has(name)) ctx.addIssue({ code: 'custom', path: [list, i, 'roles', j], message: `names an unknown role ${JSON.stringify(name)} (not in roles:)` });
      });
    config.clients.forEach((c, i) => unknownRoles('clients', i, c.roles));
    config.users.forEach((u, i) => unknownRoles('users', i, u.roles));
  });

export type ClientConfig = z.infer<typeof clientSchema>;
export type UserConfig = z.infer<typeof userSchema>;
export type RoleConfig = z.infer<typeof roleSchema>;
export type Config = z.infer<typeof configSchema>;
