import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { postForm } from './flow.js';
import type { TestServer } from './server.js';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface TestKey {
  readonly alg: 'ES256' | 'PS256' | 'EdDSA' | 'RS256';
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function makeKey(alg: TestKey['alg'], kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, publicJwk };
}

/** A fapi2 client entry for config.yaml, authenticating with `key`. */
export function fapiClient(server: { callback(id: string): string } | undefined, clientId: string, key: TestKey, more: Record<string, unknown> = {}) {
  return {
    client_id: clientId,
    client_name: `FAPI ${clientId}`,
    profile: 'fapi2',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [key.publicJwk] },
    redirect_uris: [`http://127.0.0.1:9/${clientId}/callback`],
    grant_types: ['authorization_code'],
    scope: 'openid profile email accounts',
    require_consent: false,
    id_token_signed_response_alg: key.alg === 'RS256' ? 'ES256' : key.alg,
    ...more,
  };
}

/** A client assertion (RFC 7523) that is valid unless `claims` or `header` say otherwise. */
export async function clientAssertion(
  server: TestServer,
  clientId: string,
  key: TestKey,
  options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; signWith?: CryptoKey } = {},
): Promise<string> {
  const now = server.clock.now();
  return new SignJWT({ iss: clientId, sub: clientId, aud: server.issuer, jti: randomUUID(), iat: now, exp: now + 60, ...options.claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...options.header })
    .sign(options.signWith ?? key.privateKey);
}

/** A DPoP proof (RFC 9449 §4.2) that is valid unless `claims` or `header` say otherwise. */
export async function dpopProof(
  server: TestServer,
  key: TestKey,
  options: { htm?: string; htu: string; nonce?: string; accessToken?: string; claims?: Record<string, unknown>; header?: Record<string, unknown> },
): Promise<string> {
  const ath = options.accessToken === undefined ? undefined : createHash('sha256').update(options.accessToken).digest('base64url');
  const { kid: _kid, use: _use, alg: _alg, ...publicJwk } = key.publicJwk;
  return new SignJWT({
    jti: randomUUID(),
    htm: options.htm ?? 'POST',
    htu: options.htu,
    iat: server.clock.now(),
    ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
    ...(ath !== undefined ? { ath } : {}),
    ...options.claims,
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: publicJwk, ...options.header })
    .sign(key.privateKey);
}

export function thumbprint(key: TestKey): Promise<string> {
  return calculateJwkThumbprint(key.publicJwk, 'sha256');
}

/** The server's current DPoP nonce, read from a use_dpop_nonce answer. */
export async function dpopNonce(server: TestServer, key: TestKey): Promise<string> {
  const response = await postForm(server.issuer + '/par', {}, { dpop: await dpopProof(server, key, { htu: server.issuer + '/par' }) });
  const nonce = response.headers.get('dpop-nonce');
  if (response.json.error !== 'use_dpop_nonce' || nonce === null) throw new Error(`expected use_dpop_nonce, got ${JSON.stringify(response.json)}`);
  return nonce;
}

/** A PAR request by `clientId` authenticated with a fresh assertion; `form` adds or overrides (undefined removes). */
export async function pushRequest(
  server: TestServer,
  clientId: string,
  key: TestKey,
  form: Record<string, string | undefined> = {},
  headers: Record<string, string> = {},
) {
  const all: Record<string, string | undefined> = {
    client_id: clientId,
    redirect_uri: server.callback(clientId),
    response_type: 'code',
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge('a'.repeat(43)),
    code_challenge_method: 'S256',
    state: 'fapi-state',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(server, clientId, key),
    ...form,
  };
  const body = Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return postForm(server.issuer + '/par', body, headers);
}

/** The PKCE verifier pushRequest uses by default. */
export const PUSHED_VERIFIER = 'a'.repeat(43);
