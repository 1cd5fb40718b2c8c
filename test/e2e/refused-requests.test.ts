import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';

/**
 * Contract: errors the framework or Node's HTTP parser raise are invalid_request JSON with
 * no-store, never a framework-shaped body (http/client-error.ts).
 */
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server.close());

/** Sends raw bytes (fetch would clean the request line up) and reads the whole answer. */
function raw(request: string): Promise<{ status: number; headers: string; body: string }> {
  const { hostname, port } = new URL(server.issuer);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body });
    });
  });
}

describe('requests refused before any route', () => {
  it.each([
    ['an unknown method', 'FUZZ /auth HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'the request is malformed'],
    ['a raw byte in the target', 'GET /\xe9 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'the request is malformed'],
    ['a header over 16 KiB', `GET /auth HTTP/1.1\r\nHost: x\r\nAuthorization: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431, 'the request headers are too large'],
    ['a target the router cannot decode', 'GET /% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'the request target is malformed'],
  ])('%s gets invalid_request JSON with no-store', async (_name, request, status, description) => {
    const answer = await raw(request);
    expect(answer.status).toBe(status);
    expect(answer.headers).toContain('cache-control: no-store');
    expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', error_description: description });
  });
});
