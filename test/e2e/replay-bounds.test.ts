import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, dpopNonce, dpopProof, makeKey, type TestKey } from '../support/fapi.js';
import { basic, obtainCode, postForm } from '../support/flow.js';
import { freePort, startServerAt, type TestServer } from '../support/server.js';

/**
 * The replay cache (client-assertion and DPoP jti) remembers a value only once the caller is
 * authenticated, in that client's share (RFC 9449 §11.1, RFC 7523 §3 (7)): a flood without valid
 * client authentication leaves nothing behind, and a public client at its share (anyone can act
 * as one) does not lock a confidential client out. Bounds lowered through createTrusty.
 */
/** A public client with refresh tokens (spa's config has none). */
const PWA = { client_id: 'pwa', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:9/pwa/callback'], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid offline_access', require_consent: false };
let server: TestServer;
let dir: string;
let svcKey: TestKey;
let attackerKey: TestKey;
let dpopKey: TestKey;
let nonce: string;

beforeAll(async () => {
  [svcKey, attackerKey, dpopKey] = await Promise.all([makeKey('ES256', 'svc-1'), makeKey('ES256', 'svc-1'), makeKey('ES256')]);
  dir = mkdtempSync(join(tmpdir(), 'trusty-replay-'));
  server = await startServerAt(await freePort(), dir, {
    extra: { clients: [{ client_id: 'svc', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [svcKey.publicJwk] }, grant_types: ['client_credentials'], scope: 'invoices:read' }, PWA] },
    bounds: { replayCacheCapacity: 10, replayPerClient: 6, replayPerPublicClient: 2 },
  });
  nonce = await dpopNonce(server, dpopKey);
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const url = (path: string) => server.issuer + path;
const proof = (path: string, more: Partial<Parameters<typeof dpopProof>[2]> = {}) => dpopProof(server, dpopKey, { htu: url(path), nonce, ...more });

async function svcToken(assertion?: string) {
  return postForm(
    url('/token'),
    { grant_type: 'client_credentials', scope: 'invoices:read', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion ?? (await clientAssertion(server, 'svc', svcKey)) },
    { dpop: await proof('/token') },
  );
}

function pushSpa(dpop: string) {
  return postForm(
    url('/par'),
    { client_id: 'spa', response_type: 'code', scope: 'openid', redirect_uri: server.callback('spa'), code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' },
    { dpop },
  );
}

describe('the replay cache and unauthenticated callers', () => {
  it('remembers nothing for a flood of valid DPoP proofs without valid client authentication; a legitimate request then passes', async () => {
    for (let i = 0; i < 6; i++) {
      // A forged assertion (right kid, wrong key) at /token, and at /par.
      const forged = await clientAssertion(server, 'svc', svcKey, { signWith: attackerKey.privateKey });
      const token = await svcToken(forged);
      expect(token.json).toEqual({ error: 'invalid_client', error_description: 'client_assertion signature is invalid' });
      const par = await postForm(url('/par'), { client_id: 'web-app', response_type: 'code', scope: 'openid' }, { dpop: await proof('/par'), authorization: basic('web-app', 'wrong-secret') });
      expect(par.json).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
      // A proof beside an access token that does not verify, at /userinfo.
      const userinfo = await fetch(url('/userinfo'), { headers: { authorization: 'DPoP not-a-token', dpop: await proof('/userinfo', { htm: 'GET', accessToken: 'not-a-token' }) } });
      expect(userinfo.status).toBe(401);
    }
    const legitimate = await svcToken();
    expect(legitimate.json).toMatchObject({ token_type: 'DPoP' });
    expect(legitimate.status).toBe(200);
  });

  it('still refuses a replayed proof at /token once the client is authenticated', async () => {
    const once = await proof('/token');
    const body = async () => ({ grant_type: 'client_credentials', scope: 'invoices:read', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(server, 'svc', svcKey) });
    expect((await postForm(url('/token'), await body(), { dpop: once })).status).toBe(200);
    const replay = await postForm(url('/token'), await body(), { dpop: once });
    expect(replay.json).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof jti was already used' });
  });

  it('remembers nothing for a public client until its grant checks passed: a flood of fresh proofs with bogus codes and refresh tokens, then its user gets tokens', async () => {
    // pwa's share is 2: remembering before the grant's checks would fill it at the third request.
    for (let i = 0; i < 6; i++) {
      const refresh = await postForm(url('/token'), { client_id: 'pwa', grant_type: 'refresh_token', refresh_token: `bogus-${i}` }, { dpop: await proof('/token') });
      expect(refresh.json).toEqual({ error: 'invalid_grant', error_description: 'the refresh token is invalid' });
      const code = await postForm(url('/token'), { client_id: 'pwa', grant_type: 'authorization_code', code: `bogus-${i}`, redirect_uri: server.callback('pwa'), code_verifier: 'a'.repeat(43) }, { dpop: await proof('/token') });
      expect(code.json).toEqual({ error: 'invalid_grant', error_description: 'the authorization code is invalid' });
    }
    // A valid code with the wrong PKCE verifier: refused, its proof not remembered.
    const stolen = await obtainCode(server, 'pwa', { scope: 'openid offline_access' });
    const wrongVerifier = await postForm(url('/token'), { client_id: 'pwa', grant_type: 'authorization_code', code: stolen.code, redirect_uri: stolen.redirectUri, code_verifier: 'b'.repeat(43) }, { dpop: await proof('/token') });
    expect(wrongVerifier.json.error).toBe('invalid_grant');
    const { code, verifier, redirectUri } = await obtainCode(server, 'pwa', { scope: 'openid offline_access' });
    const once = await proof('/token');
    const legitimate = await postForm(url('/token'), { client_id: 'pwa', grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, { dpop: once });
    expect(legitimate.json).toMatchObject({ token_type: 'DPoP' });
    expect(legitimate.status).toBe(200);
    // The accepted proof was remembered: replaying it with the (valid, bound) refresh token is refused.
    const refreshToken = legitimate.json.refresh_token as string;
    const replay = await postForm(url('/token'), { client_id: 'pwa', grant_type: 'refresh_token', refresh_token: refreshToken }, { dpop: once });
    expect(replay.json).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof jti was already used' });
    // A refresh with a fresh proof of the bound key passes.
    const refreshed = await postForm(url('/token'), { client_id: 'pwa', grant_type: 'refresh_token', refresh_token: refreshToken }, { dpop: await proof('/token') });
    expect(refreshed.status).toBe(200);
  });

  it('remembers nothing for a public client at /par until its request was validated and stored; a replay there stores nothing', async () => {
    for (let i = 0; i < 4; i++) {
      const invalid = await postForm(url('/par'), { client_id: 'spa', response_type: 'code', scope: 'openid', redirect_uri: 'https://attacker.example/cb' }, { dpop: await proof('/par') });
      expect(invalid.json.error).toBe('invalid_request');
    }
    const once = await proof('/par');
    expect((await pushSpa(once)).status).toBe(201);
    const replay = await pushSpa(once);
    expect(replay.json).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof jti was already used' });
  });

  it('never lets a flood of pushes as a public client get 503 at /par or fill what its users need; a confidential client still passes', async () => {
    server.clock.advance(71); // svc's earlier assertions (60 s + 10 s) and proofs (60 s + 10 s) expire
    nonce = await dpopNonce(server, dpopKey);
    const proofs = [await proof('/par'), await proof('/par'), await proof('/par')];
    const answers = [];
    for (const each of proofs) answers.push(await pushSpa(each));
    // At its /par share (2 here), the oldest proof is forgotten: forgetting one lets nobody do
    // anything (htu binds it to /par, and what it pushes is bound to a key the replayer lacks).
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
    expect((await pushSpa(proofs[2]!)).json).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof jti was already used' });
    // Valid pushes are not bounded by the PAR store's share (a public client's oldest pending
    // request makes room): their proofs have a share of their own, apart from /token's.
    const { code, verifier, redirectUri } = await obtainCode(server, 'spa');
    const spaToken = await postForm(url('/token'), { client_id: 'spa', grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, { dpop: await proof('/token') });
    expect(spaToken.json).toMatchObject({ token_type: 'DPoP' });
    // svc, confidential, has its own share: its assertion and its proof are remembered there.
    const token = await svcToken();
    expect(token.status).toBe(200);
  });
});
