import { describe, expect, it } from 'vitest';
import { authorizationRequest, manualClock } from '../../../test/unit/fixtures.js';
import type { PushedRequest } from '../../application/ports/par-store.js';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { MemoryParStore } from './memory-par-store.js';

function pushed(expiresAt: number, clientId = 'app'): PushedRequest {
  return {
    clientId,
    expiresAt,
    request: authorizationRequest({ clientId, state: 's' }),
  };
}

describe('MemoryParStore', () => {
  it('finds a saved request by its handle until it expires', async () => {
    const c = manualClock();
    const store = new MemoryParStore(10, c.fn);
    const request = pushed(1060);
    await store.save('h-1', request);
    await expect(store.find('h-1')).resolves.toBe(request);
    c.now = 1059;
    await expect(store.find('h-1')).resolves.toBe(request);
    c.now = 1060;
    await expect(store.find('h-1')).resolves.toBeUndefined();
  });

  it('answers undefined for an unknown handle', async () => {
    await expect(new MemoryParStore(10, manualClock().fn).find('nope')).resolves.toBeUndefined();
  });

  it('forgets a deleted request (the request_uri is single use)', async () => {
    const store = new MemoryParStore(10, manualClock().fn);
    await store.save('h-1', pushed(2000));
    await store.save('h-2', pushed(2000, 'other'));
    await store.delete('h-1');
    await expect(store.find('h-1')).resolves.toBeUndefined();
    await expect(store.find('h-2')).resolves.toMatchObject({ clientId: 'other' });
  });

  it('refuses with temporarily_unavailable when full of pending requests', async () => {
    const store = new MemoryParStore(1, manualClock().fn);
    await store.save('h-1', pushed(2000));
    const error = await store.save('h-2', pushed(2000)).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TemporarilyUnavailable);
    expect(error).toMatchObject({
      error: 'temporarily_unavailable',
      status: 503,
      description: 'too many pending pushed authorization requests; retry shortly',
    });
    await expect(store.find('h-1')).resolves.toBeDefined();
    await expect(store.find('h-2')).resolves.toBeUndefined();
  });

  it('makes room as requests expire or are deleted', async () => {
    const c = manualClock();
    const store = new MemoryParStore(1, c.fn);
    await store.save('h-1', pushed(1060));
    c.now = 1060;
    await expect(store.save('h-2', pushed(1120))).resolves.toBeUndefined();
    await store.delete('h-2');
    await expect(store.save('h-3', pushed(1120))).resolves.toBeUndefined();
  });

  it('refuses a client over its own share with temporarily_unavailable, while other clients still push', async () => {
    const store = new MemoryParStore(10, manualClock().fn, 2);
    await store.save('a-1', pushed(2000, 'spa'));
    await store.save('a-2', pushed(2000, 'spa'));
    const error = await store.save('a-3', pushed(2000, 'spa')).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TemporarilyUnavailable);
    expect(error).toMatchObject({
      error: 'temporarily_unavailable',
      status: 503,
      description: 'too many pending pushed authorization requests for this client; retry shortly',
    });
    await expect(store.find('a-3')).resolves.toBeUndefined();
    await expect(store.save('b-1', pushed(2000, 'bank'))).resolves.toBeUndefined();
    await expect(store.save('b-2', pushed(2000, 'bank'))).resolves.toBeUndefined();
    await expect(store.find('b-2')).resolves.toMatchObject({ clientId: 'bank' });
  });

  it("gives a client its share back as its own requests expire or are deleted, whatever their order", async () => {
    const c = manualClock();
    const store = new MemoryParStore(10, c.fn, 2);
    await store.save('other', pushed(5000, 'bank')); // a long-lived head of the whole store
    await store.save('a-1', pushed(1060, 'spa'));
    await store.save('a-2', pushed(1120, 'spa'));
    await expect(store.save('a-3', pushed(1120, 'spa'))).rejects.toBeInstanceOf(TemporarilyUnavailable);
    c.now = 1060;
    await expect(store.save('a-3', pushed(1120, 'spa'))).resolves.toBeUndefined();
    await expect(store.save('a-4', pushed(1120, 'spa'))).rejects.toBeInstanceOf(TemporarilyUnavailable);
    await store.delete('a-2');
    await expect(store.save('a-4', pushed(1120, 'spa'))).resolves.toBeUndefined();
    await expect(store.find('other')).resolves.toMatchObject({ clientId: 'bank' });
  });

  it('keeps the overall bound too', async () => {
    const store = new MemoryParStore(2, manualClock().fn, 2);
    await store.save('a-1', pushed(2000, 'spa'));
    await store.save('b-1', pushed(2000, 'bank'));
    await expect(store.save('c-1', pushed(2000, 'third'))).rejects.toMatchObject({ description: 'too many pending pushed authorization requests; retry shortly' });
  });

  it('with makeRoom (a public client), drops the client’s oldest pending request at its share instead of refusing', async () => {
    const store = new MemoryParStore(10, manualClock().fn, 2);
    await store.save('a-1', pushed(2000, 'spa'), { makeRoom: true });
    await store.save('b-1', pushed(2000, 'bank'));
    await store.save('a-2', pushed(2000, 'spa'), { makeRoom: true });
    await expect(store.save('a-3', pushed(2000, 'spa'), { makeRoom: true })).resolves.toBeUndefined();
    await expect(store.find('a-1')).resolves.toBeUndefined();
    await expect(store.find('a-2')).resolves.toMatchObject({ clientId: 'spa' });
    await expect(store.find('a-3')).resolves.toMatchObject({ clientId: 'spa' });
    await expect(store.find('b-1')).resolves.toMatchObject({ clientId: 'bank' }); // never another client's
  });
});
