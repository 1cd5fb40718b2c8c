import { randomUUID } from 'node:crypto';
import { CompactSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSERTION_TYPE, dpopNonce, makeKey, type TestKey } from '../support/fapi.js';
import { basic, postForm } from '../support/flow.js';
import { startServer, WEB_SECRET, type TestServer } from '../support/server.js';

/**
 * Every JWT header and claim read from input is type-checked (issue 12, finding 13): access
 * tokens at /userinfo, /introspect and /revoke, DPoP proofs and client assertions at /token
 * answer 4xx with an RFC 6749 §5.2 body, never 5xx, whatever JSON type sits where a string belongs.
 */
const MACHINE_SECRET = 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
/** Where a string belongs, everything else JSON can say. */
const HOSTILE: unknown[] = [1, 0, {}, true, false, null, [], ['x'], { toString: 'x' }];

let server: TestServer;
let svcKey: TestKey;
let dpopKey: TestKey;
let accessToken: string;

beforeAll(async () => {
  [svcKey, dpopKey] = await Promise.all([makeKey('ES256', 'svc-1'), makeKey('ES256')]);
  server = await startServer({
    clients: [{ client_id: 'svc', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [svcKey.publicJwk] }, grant_types: ['client_credentials'], scope: 'invoices:read' }],
    // Every case is a refused assertion from one address: past the per-address budget of
    // failures (test/e2e/rate-limits.test.ts) the answer would be 429 before the assertion is read.
    settings: { rate_limits: { per_ip: { failed_client_auth: 100_000 } } },
  });
  const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials', scope: 'invoices:read' }, { authorization: basic('machine', MACHINE_SECRET) });
  accessToken = String(response.json.access_token);
});
afterAll(async () => {
  await server?.close();
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `token` with its header replaced; the signature no longer matches, which must not matter. */
function withHeader(token: string, header: Record<string, unknown>): string {
  const [, payload, signature] = token.split('.') as [string, string, string];
  return `${b64(header)}.${payload}.${signature}`;
}

/** A JWT signed with `key` over exactly this header and these claims. */
async function signed(key: TestKey, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  return new CompactSign(Buffer.from(JSON.stringify(claims))).setProtectedHeader({ alg: key.alg, ...header } as { alg: string }).sign(key.privateKey);
}

describe('access tokens with hostile headers', () => {
  const headers = () => {
    const kid = JSON.parse(Buffer.from(accessToken.split('.')[0]!, 'base64url').toString()).kid as string;
    return [
      ...HOSTILE.map((typ) => ({ alg: 'ES256', kid, typ })),
      ...HOSTILE.map((bad) => ({ alg: 'ES256', kid: bad, typ: 'at+jwt' })),
      ...HOSTILE.map((alg) => ({ alg, kid, typ: 'at+jwt' })),
    ];
  };

  it('/userinfo answers 401 invalid_token', async () => {
    for (const header of headers()) {
      const response = await fetch(server.issuer + '/userinfo', { headers: { authorization: `Bearer ${withHeader(accessToken, header)}` } });
      expect(response.status, JSON.stringify(header)).toBe(401);
      expect(response.headers.get('www-authenticate'), JSON.stringify(header)).toMatch(/error="invalid_token"/);
    }
  });

  it('/introspect answers active: false and /revoke answers 200, changing nothing', async () => {
    for (const header of headers()) {
      const token = withHeader(accessToken, header);
      const introspected = await postForm(server.issuer + '/introspect', { token }, { authorization: basic('web-app', WEB_SECRET) });
      expect([introspected.status, introspected.json], JSON.stringify(header)).toEqual([200, { active: false }]);
      const revoked = await postForm(server.issuer + '/revoke', { token }, { authorization: basic('machine', MACHINE_SECRET) });
      expect(revoked.status, JSON.stringify(header)).toBe(200);
    }
    const original = await postForm(server.issuer + '/introspect', { token: accessToken }, { authorization: basic('machine', MACHINE_SECRET) });
    expect(original.json.active).toBe(true);
  });
});

describe('DPoP proofs with hostile headers (RFC 9449 §4.3)', () => {
  it('/token answers 400 invalid_dpop_proof', async () => {
    const nonce = await dpopNonce(server, dpopKey);
    const { kid: _kid, use: _use, alg: _alg, ...jwk } = dpopKey.publicJwk;
    const claims = () => ({ jti: randomUUID(), htm: 'POST', htu: server.issuer + '/token', iat: server.clock.now(), nonce });
    const headers = [
      ...HOSTILE.map((typ) => ({ typ, jwk })),
      ...HOSTILE.map((bad) => ({ typ: 'dpop+jwt', jwk: bad })),
      ...HOSTILE.map((kty) => ({ typ: 'dpop+jwt', jwk: { ...jwk, kty } })),
      ...HOSTILE.map((crv) => ({ typ: 'dpop+jwt', jwk: { ...jwk, crv } })),
    ];
    for (const header of headers) {
      const proof = await signed(dpopKey, header, claims());
      const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials', scope: 'invoices:read' }, { authorization: basic('machine', MACHINE_SECRET), dpop: proof });
      expect(response.status, JSON.stringify(header)).toBe(400);
      expect(response.json.error, JSON.stringify(header)).toBe('invalid_dpop_proof');
      expect(typeof response.json.error_description).toBe('string');
    }
    for (const bad of HOSTILE) {
      for (const claim of ['jti', 'htm', 'htu', 'iat', 'nonce', 'ath']) {
        const proof = await signed(dpopKey, { typ: 'dpop+jwt', jwk }, { ...claims(), [claim]: bad });
        const response = await postForm(server.issuer + '/token', { grant_type: 'client_credentials', scope: 'invoices:read' }, { authorization: basic('machine', MACHINE_SECRET), dpop: proof });
        expect(response.status, `${claim} ${JSON.stringify(bad)}`).toBeLessThan(500);
        expect(response.status, `${claim} ${JSON.stringify(bad)}`).toBeGreaterThanOrEqual(claim === 'ath' ? 200 : 400);
      }
    }
  });
});

describe('client assertions with hostile headers and claims (RFC 7523 §3)', () => {
  it('/token answers 401 invalid_client, never 5xx', async () => {
    const claims = () => ({ iss: 'svc', sub: 'svc', aud: server.issuer, jti: randomUUID(), iat: server.clock.now(), exp: server.clock.now() + 60 });
    const assertions: Array<[string, Promise<string>]> = [
      ...HOSTILE.map((typ): [string, Promise<string>] => [`typ ${JSON.stringify(typ)}`, signed(svcKey, { kid: svcKey.kid, typ }, claims())]),
      ...HOSTILE.map((kid): [string, Promise<string>] => [`kid ${JSON.stringify(kid)}`, signed(svcKey, { kid }, claims())]),
      ...['iss', 'sub', 'aud', 'jti', 'exp', 'iat', 'nbf'].flatMap((claim) =>
        HOSTILE
          // A number in the past is a fine iat or nbf.
          .filter((bad) => !(typeof bad === 'number' && (claim === 'iat' || claim === 'nbf')))
          .map((bad): [string, Promise<string>] => [`${claim} ${JSON.stringify(bad)}`, signed(svcKey, { kid: svcKey.kid }, { ...claims(), [claim]: bad })]),
      ),
    ];
    for (const [what, assertion] of assertions) {
      const form = { grant_type: 'client_credentials', scope: 'invoices:read', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion };
      for (const body of [form, { ...form, client_id: 'svc' }]) {
        const response = await postForm(server.issuer + '/token', body);
        expect(response.status, what).toBeGreaterThanOrEqual(400);
        expect(response.status, what).toBeLessThan(500);
        expect(['invalid_client', 'invalid_request'], `${what}: ${JSON.stringify(response.json)}`).toContain(response.json.error);
      }
    }
  });
});
