import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, basic, postForm } from '../support/flow.js';
import { WEB_SECRET, startServer, type TestServer } from '../support/server.js';

/**
 * RFC 6749 §5.2: error_description holds only %x20-21 / %x23-5B / %x5D-7E, and input quoted in
 * it is cut and stripped of markup, quotes and non-ASCII, however the error is rendered (JSON,
 * redirect query, HTML page).
 */
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const MACHINE_SECRET = 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

function expectError(result: Awaited<ReturnType<typeof postForm>>, status: number, error: string, description: string) {
  expect({ status: result.status, body: result.json }).toEqual({ status, body: { error, error_description: description } });
}

describe('error_description never echoes hostile input', () => {
  it('at /auth, through the redirect: prompt="é<script>', async () => {
    const response = await fetch(authorizationUrl(server, 'web-app', CHALLENGE, { prompt: '"é<script>', state: 's' }), { redirect: 'manual' });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      error: 'invalid_request',
      error_description: 'prompt value ???script? is not supported',
      state: 's',
      iss: server.issuer,
    });
  });

  it('at /auth, through the redirect: a scope token with markup, cut to its first characters', async () => {
    const scope = `openid <img>${'x'.repeat(100)}`;
    const response = await fetch(authorizationUrl(server, 'web-app', CHALLENGE, { scope }), { redirect: 'manual' });
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error_description')).toBe(`scope not allowed for this client: ?img?${'x'.repeat(35)}...`);
  });

  it('at /token, in the JSON body: grant_type=é"\\', async () => {
    expectError(await postForm(server.issuer + '/token', { grant_type: 'é"\\' }, { authorization: basic('web-app', WEB_SECRET) }), 400, 'unsupported_grant_type', 'grant_type ??? is not supported');
  });

  it('at /token, in the JSON body: a repeated parameter with a hostile name', async () => {
    const body = new URLSearchParams([['grant_type', 'client_credentials'], ['é"<b>', '1'], ['é"<b>', '2']]).toString();
    const response = await fetch(server.issuer + '/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('machine', MACHINE_SECRET) }, body });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: '???b? must not be repeated' });
  });

  it('at /token, in the JSON body: a refused scope with markup', async () => {
    const result = await postForm(server.issuer + '/token', { grant_type: 'client_credentials', scope: 'invoices:read <svg/onload=x>' }, { authorization: basic('machine', MACHINE_SECRET) });
    expectError(result, 400, 'invalid_scope', 'scope not allowed for this client: ?svg/onload=x?');
  });

  it('on an HTML error page: a repeated parameter with a hostile name at /logout', async () => {
    const response = await fetch(`${server.issuer}/logout?${new URLSearchParams([['é"<b>', '1'], ['é"<b>', '2']]).toString()}`);
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('<code>invalid_request</code> ???b? must not be repeated');
    expect(html).not.toContain('é');
  });
});
