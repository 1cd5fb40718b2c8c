import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, dpopNonce, dpopProof, makeKey, type TestKey } from '../support/fapi.js';
import { basic, postForm } from '../support/flow.js';
import { freePort, type TestServer } from '../support/server.js';
import { startServerAt } from '../support/server-at.js';

/**
 * The replay cache (client-assertion and DPoP jti) remembers a value only once the caller is
 * authenticated, in that client's share (RFC 9449 §11.1, RFC 7523 §3 (7)): a flood without valid
 * client authentication leaves nothing behind, and a public client at its share (anyone can act
 * as one) does not lock a confidential client out. Bounds lowered through createTrusty.
 */
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
    extra: { clients: [{ client_id: 'svc', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [svcKey.publicJwk] }, grant_types: ['client_credentials'], scope: 'invoices:read' }] },
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

  it('lets a public client fill only its own share: it gets 503, a confidential client still passes', async () => {
    server.clock.advance(71); // svc's earlier assertions (60 s + 10 s) and proofs (60 s + 10 s) expire
    nonce = await dpopNonce(server, dpopKey);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await pushSpa(await proof('/par')));
    expect(answers.slice(0, 2).map((answer) => answer.status)).toEqual([201, 201]);
    expect(answers[2]!.json).toEqual({ error: 'temporarily_unavailable', error_description: 'too many requests in flight for this client; retry shortly' });
    expect(answers[2]!.status).toBe(503);
    // svc, confidential, has its own share: its assertion and its proof are remembered there.
    const token = await svcToken();
    expect(token.status).toBe(200);
  });
});
