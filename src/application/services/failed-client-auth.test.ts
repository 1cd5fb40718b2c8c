import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../ports/repositories.js';
import {
  FAILED_AUTH_KEYS,
  FAILED_AUTH_PER_KEY,
  FAILED_AUTH_PER_MINUTE,
  FAILED_AUTH_ROWS_PER_MINUTE,
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

  it('writes at most 121 rows a minute whatever arrives, and keeps at most FAILED_AUTH_KEYS keys', () => {
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
    expect(events).toHaveLength(FAILED_AUTH_ROWS_PER_MINUTE);
    expect(FAILED_AUTH_ROWS_PER_MINUTE).toBe(121);
  });

  it('cuts a long client_id to 64 characters, says so, and counts names cut alike as one key', () => {
    log.record(attempt('x'.repeat(64)));
    expect(full()[0]).toMatchObject({ clientId: 'x'.repeat(64), details: { endpoint: '/token' } });
    expect(full()[0]!.details).not.toHaveProperty('client_id_truncated');
    for (let i = 0; i < 20; i++) log.record(attempt(`${'y'.repeat(64)}-${i}`));
    expect(full()[1]).toMatchObject({ clientId: 'y'.repeat(64), details: { client_id_truncated: true } });
    expect(full()).toHaveLength(1 + FAILED_AUTH_PER_KEY);
    log.flush();
    expect(summaries()).toMatchObject([{ clientId: 'y'.repeat(64), details: { suppressed: 10, client_id_truncated: true } }]);
  });

  it('cuts the user agent to 128 characters: a row holds at most about 450 characters, whatever the caller sends', () => {
    const worst: FailedClientAuthentication = {
      clientId: 'c'.repeat(5000),
      method: 'client_secret_basic',
      reason: 'client_assertion may have been used before this server started (its iat, or exp minus 300 s, is earlier): sign a new one',
      endpoint: '/introspect',
      ip: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255',
      userAgent: 'u'.repeat(16_000),
    };
    log.record(worst);
    expect(full()[0]!.userAgent).toHaveLength(128);
    expect(full()[0]!.clientId).toHaveLength(64);
    // The stored columns: client_id, ip, user_agent, details as JSON (docs/audit.md counts the bytes).
    const row = full()[0]!;
    const stored = row.clientId!.length + row.ip!.length + row.userAgent!.length + JSON.stringify(row.details).length;
    expect(stored).toBeLessThanOrEqual(460);
  });
});
