import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpLogoutSender, LOGOUT_MAX_IN_FLIGHT, LOGOUT_MAX_WAITING } from './http-logout-sender.js';

/** A relying party's back channel that answers only when told to: deliveries pile up in flight. */
let server: Server;
let uri: string;
let held: Array<ServerResponse<IncomingMessage>>;
let received: string[];

beforeEach(async () => {
  held = [];
  received = [];
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push(new URLSearchParams(body).get('logout_token') ?? '');
      held.push(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel`;
});
afterEach(async () => {
  for (const response of held) response.writeHead(200).end();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function fakeLog() {
  return { warn: vi.fn(), error: vi.fn(), info: vi.fn(), debug: vi.fn() };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

async function until(condition: () => boolean) {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Answers every held request (and those that arrive until `stop`) with 200. */
function releaseAll() {
  const timer = setInterval(() => {
    for (const response of held.splice(0)) response.writeHead(200).end();
  }, 5);
  return () => clearInterval(timer);
}

describe('HttpLogoutSender', () => {
  it(`has at most ${LOGOUT_MAX_IN_FLIGHT} deliveries in flight; the others wait their turn and all arrive`, async () => {
    expect(LOGOUT_MAX_IN_FLIGHT).toBe(16);
    expect(LOGOUT_MAX_WAITING).toBe(10_000);
    const sender = new HttpLogoutSender(fakeLog() as unknown as Logger);
    const sends = Array.from({ length: 40 }, (_, i) => sender.send(uri, `token-${i}`, 'rp'));
    await until(() => received.length >= LOGOUT_MAX_IN_FLIGHT);
    await settle();
    expect(received).toHaveLength(LOGOUT_MAX_IN_FLIGHT);
    const stop = releaseAll();
    await Promise.all(sends);
    stop();
    expect(new Set(received).size).toBe(40);
    await sender.drain();
  });

  it('drops a logout token with a warning beyond the cap of waiting deliveries', async () => {
    const log = fakeLog();
    const sender = new HttpLogoutSender(log as unknown as Logger, { maxWaiting: 4 });
    const sends = Array.from({ length: LOGOUT_MAX_IN_FLIGHT + 4 + 3 }, (_, i) => sender.send(uri, `token-${i}`, 'rp'));
    await until(() => received.length >= LOGOUT_MAX_IN_FLIGHT);
    expect(log.warn).toHaveBeenCalledTimes(3);
    expect(log.warn).toHaveBeenCalledWith({ client_id: 'rp', attempt: 1 }, 'back-channel logout dropped: too many waiting');
    const stop = releaseAll();
    await Promise.all(sends);
    stop();
    expect(received).toHaveLength(LOGOUT_MAX_IN_FLIGHT + 4);
    await sender.drain();
  });

  it('gives up waiting at shutdown after the drain deadline, saying how many were left', async () => {
    const log = fakeLog();
    const sender = new HttpLogoutSender(log as unknown as Logger);
    const sends = Array.from({ length: LOGOUT_MAX_IN_FLIGHT + 2 }, (_, i) => sender.send(uri, `token-${i}`, 'rp'));
    await until(() => received.length >= LOGOUT_MAX_IN_FLIGHT);
    const started = Date.now();
    await sender.drain(100);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(log.warn).toHaveBeenCalledWith({ undelivered: LOGOUT_MAX_IN_FLIGHT + 2 }, 'shutting down with back-channel logout tokens undelivered');
    const stop = releaseAll();
    await Promise.all(sends);
    stop();
  });
});
