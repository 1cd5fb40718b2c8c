import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { liveDocument, serverWithStaticDocuments, staticDocument, StaticDocuments } from './static-documents.js';

const DOCUMENT = { issuer: 'https://id.example.com', note: 'é' };
let server: Server | undefined;

/** A real listening server: the fast path in front of a fallback that answers 418. */
async function listen(documents: StaticDocuments): Promise<string> {
  server = serverWithStaticDocuments(documents, { requestTimeout: 5_000, keepAliveTimeout: 5_000 })((_request, response) => {
    response.statusCode = 418;
    response.end('fallback');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  if (server === undefined) return;
  server.closeAllConnections();
  await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

describe('static documents', () => {
  it('builds the body once, with its exact length, cache and security headers', () => {
    const document = staticDocument(DOCUMENT);
    expect(JSON.parse(document.body.toString())).toEqual(DOCUMENT);
    expect(Object.fromEntries(document.headers)).toEqual({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'public, max-age=300',
      'content-length': String(Buffer.byteLength(JSON.stringify(DOCUMENT))),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
  });

  it('answers GET and HEAD on an exact path, before the fallback handler', async () => {
    const base = await listen(new StaticDocuments({ '/doc': staticDocument(DOCUMENT) }));
    const get = await fetch(`${base}/doc`);
    expect(get.status).toBe(200);
    expect(get.headers.get('cache-control')).toBe('public, max-age=300');
    expect(get.headers.get('x-frame-options')).toBe('DENY');
    expect(await get.json()).toEqual(DOCUMENT);
    const head = await fetch(`${base}/doc`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(await head.text()).toBe('');
  });

  it('passes on other paths, a query string, other methods and everything once closed', async () => {
    const documents = new StaticDocuments({ '/doc': staticDocument(DOCUMENT) });
    const base = await listen(documents);
    for (const [path, method] of [['/other', 'GET'], ['/doc?x=1', 'GET'], ['/doc/', 'GET'], ['/DOC', 'GET'], ['/doc', 'POST'], ['/doc', 'OPTIONS']] as const) {
      const response = await fetch(base + path, { method });
      expect(response.status, `${method} ${path}`).toBe(418);
      expect(await response.text()).toBe('fallback');
    }
    documents.close();
    expect((await fetch(`${base}/doc`)).status).toBe(418);
  });

  it('serves a live document as its source stands, serialising it again only when the source returns another object', async () => {
    let value: object = { keys: ['a'] };
    let reads = 0;
    const live = liveDocument(() => (reads++, value));
    const first = live.current();
    expect(live.current()).toBe(first); // the same object: the same prebuilt bytes
    const base = await listen(new StaticDocuments({ '/jwks': live }));
    expect(await (await fetch(`${base}/jwks`)).json()).toEqual({ keys: ['a'] });
    value = { keys: ['a', 'b'] };
    const response = await fetch(`${base}/jwks`);
    expect(response.headers.get('content-length')).toBe(String(JSON.stringify(value).length));
    expect(await response.json()).toEqual({ keys: ['a', 'b'] });
    expect(live.current()).not.toBe(first);
    expect(reads).toBeGreaterThanOrEqual(5);
  });

  it('sets the timeouts it is given on the server', () => {
    const created = serverWithStaticDocuments(new StaticDocuments({}), { requestTimeout: 1_234, keepAliveTimeout: 5_678, connectionTimeout: 0 })(() => {});
    expect([created.requestTimeout, created.keepAliveTimeout, created.timeout]).toEqual([1_234, 5_678, 0]);
  });
});
