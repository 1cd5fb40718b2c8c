import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../ports/repositories.js';
import {
  FAILED_AUTH_KEYS,
  FAILED_AUTH_PER_KEY,
  FAILED_AUTH_PER_MINUTE,
  FAILED_AUTH_SUMMARIES,
  FailedClientAuthLog,
  type FailedClientAuthentication,
} from './failed-client-auth.js';

const MINUTE = Date.parse('2026-01-31T12:00:00Z');
let events: AuditEvent[];
let log: FailedClientAuthLog;

const attempt = (clientId: string | undefined, ip = '10.0.0.1'): FailedClientAuthentication => ({
  clientId,
  method: 'client_secret_basic',
  reason: 'client authentication failed',
  endpoint: '/token',
  ip,
  userAgent: 'curl/8',
});
const full = () => events.filter((e) => e.details?.suppressed === undefined);
const summaries = () => events.filter((e) => e.details?.suppressed !== undefined);

beforeEach(() => {
  vi.useFakeTimers({ now: MINUTE + 5_000 });
  events = [];
  log = new FailedClientAuthLog({ record: (event) => void events.push(event), flush: async () => undefined });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('FailedClientAuthLog', () => {
  it('writes FAILED_AUTH_PER_KEY failures of one client in full, then one summary when the minute ends', () => {
    for (let i = 0; i < 100; i++) log.record(attempt('billing', `10.0.0.${i}`));
    expect(full()).toHaveLength(FAILED_AUTH_PER_KEY);
    expect(full()[0]).toEqual({
      event: 'client.auth_failed',
      clientId: 'billing',
      ip: '10.0.0.0',
      userAgent: 'curl/8',
      details: { method: 'client_secret_basic', reason: 'client authentication failed', endpoint: '/token' },
    });
    expect(summaries()).toEqual([]);
    vi.advanceTimersByTime(54_999);
    expect(summaries()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(summaries()).toEqual([
      { event: 'client.auth_failed', clientId: 'billing', ip: '10.0.0.99', details: { suppressed: 90, window_start: '2026-01-31T12:00:00.000Z' } },
    ]);
    // A new minute, a new allowance; no timer waits while nothing was suppressed.
    log.record(attempt('billing'));
    expect(full()).toHaveLength(FAILED_AUTH_PER_KEY + 1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts callers that name no client by IP', () => {
    for (let i = 0; i < 15; i++) log.record(attempt(undefined, '192.0.2.1'));
    for (let i = 0; i < 15; i++) log.record(attempt(undefined, '192.0.2.2'));
    expect(full()).toHaveLength(2 * FAILED_AUTH_PER_KEY);
    log.flush();
    expect(summaries().map((e) => [e.clientId, e.ip, e.details?.suppressed])).toEqual([
      [undefined, '192.0.2.1', 5],
      [undefined, '192.0.2.2', 5],
    ]);
  });

  it('writes at most 401 rows a minute whatever arrives, and keeps at most FAILED_AUTH_KEYS keys', () => {
    const attempts = FAILED_AUTH_KEYS * 3;
    for (let i = 0; i < attempts; i++) log.record(attempt(`random-${i}`));
    expect(full()).toHaveLength(FAILED_AUTH_PER_MINUTE);
    expect(log['counts'].size).toBe(FAILED_AUTH_KEYS);
    log.flush();
    expect(summaries()).toHaveLength(FAILED_AUTH_SUMMARIES + 1);
    const rest = summaries().at(-1)!;
    expect(rest.clientId).toBeUndefined();
    // Every attempt is accounted for: written in full or counted in a summary.
    const suppressed = summaries().reduce((sum, e) => sum + (e.details!.suppressed as number), 0);
    expect(suppressed + FAILED_AUTH_PER_MINUTE).toBe(attempts);
    expect(rest.details).toMatchObject({ keys: attempts - FAILED_AUTH_PER_MINUTE - FAILED_AUTH_SUMMARIES });
  });

  it('cuts a long client_id', () => {
    log.record(attempt('x'.repeat(5000)));
    expect(full()[0]!.clientId).toHaveLength(256);
  });
});
