import { describe, expect, it } from 'vitest';
import { IDLE_SOURCES, samplesOf } from './fixtures.js';
import type { RateLimitedListener } from '../../application/ports/rate-limiter.js';
import { DURATION_BUCKETS } from './http-requests.js';
import { SESSION_COUNT_MAX_AGE_SECONDS, TrustyMetrics, type MetricSources } from './registry.js';

const SOURCES = IDLE_SOURCES;

const open = (sources: MetricSources = SOURCES) => new TrustyMetrics({ auth: 'none', token: undefined }, 100, sources);


describe('HttpRequests: the request counter and latency histogram', () => {
  it('puts a duration in the first bucket whose bound it does not exceed (le), cumulative in the exposition, one histogram per route, method and status', async () => {
    const metrics = open();
    metrics.http.observe('/token', 'POST', 200, 0.0005); // exactly the first bound: le="0.0005"
    metrics.http.observe('/token', 'POST', 200, 0.0007);
    metrics.http.observe('/token', 'POST', 401, 30); // beyond the last bound: +Inf only
    const text = await metrics.render();
    const buckets = samplesOf(text, 'trusty_http_request_duration_seconds_bucket');
    const ok = buckets.filter((b) => b.labels.includes('status="200"'));
    const refused = buckets.filter((b) => b.labels.includes('status="401"'));
    expect(ok.map((b) => b.value)).toEqual([1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(refused.map((b) => b.value)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(buckets.length).toBe(2 * (DURATION_BUCKETS.length + 1));
    expect(ok.at(-1)?.labels).toBe('{route="/token",method="POST",status="200",le="+Inf"}');
    expect(samplesOf(text, 'trusty_http_request_duration_seconds_count')).toEqual([
      { labels: '{route="/token",method="POST",status="200"}', value: 2 },
      { labels: '{route="/token",method="POST",status="401"}', value: 1 },
    ]);
    expect(samplesOf(text, 'trusty_http_request_duration_seconds_sum')).toEqual([
      { labels: '{route="/token",method="POST",status="200"}', value: 0.0005 + 0.0007 },
      { labels: '{route="/token",method="POST",status="401"}', value: 30 },
    ]);
    expect(samplesOf(text, 'trusty_http_requests_total')).toEqual([
      { labels: '{route="/token",method="POST",status="200"}', value: 2 },
      { labels: '{route="/token",method="POST",status="401"}', value: 1 },
    ]);
  });

  it('keeps its numbers apart from another server’s in the same process (a registry each)', async () => {
    const one = open();
    const two = open();
    one.http.observe('/token', 'POST', 200, 0.001);
    expect(samplesOf(await two.render(), 'trusty_http_requests_total')).toEqual([]);
    expect(samplesOf(await one.render(), 'trusty_http_requests_total')).toHaveLength(1);
  });
});

describe('TrustyMetrics: counters fed by the audit log and the rate limits', () => {
  it('counts each refused client authentication once: a full client.auth_failed event is one, a summary adds its suppressed count', async () => {
    const metrics = open();
    metrics.onAuditEvent({ event: 'client.auth_failed', clientId: 'web-app', details: { method: 'client_secret_basic', reason: 'x', endpoint: '/token' } });
    metrics.onAuditEvent({ event: 'client.auth_failed', clientId: 'web-app', details: { suppressed: 7, window_start: '2025-01-01T00:00:00.000Z' } });
    metrics.onAuditEvent({ event: 'client.auth_failed', details: { suppressed: 'many' } });
    expect(samplesOf(await metrics.render(), 'trusty_client_auth_failures_total')).toEqual([{ labels: '', value: 9 }]);
  });

  it('counts logins, locks and refresh-token reuse from their events, and ignores the others', async () => {
    const metrics = open();
    for (const event of ['login.success', 'login.failure', 'login.failure', 'user.locked', 'user.unlocked', 'refresh_token.reused', 'consent.granted']) metrics.onAuditEvent({ event });
    const text = await metrics.render();
    expect(samplesOf(text, 'trusty_logins_total')).toEqual([
      { labels: '{result="success"}', value: 1 },
      { labels: '{result="failure"}', value: 2 },
    ]);
    expect(samplesOf(text, 'trusty_account_lockouts_total')).toEqual([{ labels: '', value: 1 }]);
    expect(samplesOf(text, 'trusty_refresh_token_reuse_total')).toEqual([{ labels: '', value: 1 }]);
  });

  it('countRateLimited counts refusals by budget (an endpoint, or failed_client_auth) and key', async () => {
    const metrics = open();
    const listener: RateLimitedListener = metrics.countRateLimited;
    listener('token', 'ip');
    metrics.countRateLimited('token', 'ip');
    listener('revoke', 'client');
    metrics.countRateLimited('failed_client_auth', 'ip');
    expect(samplesOf(await metrics.render(), 'trusty_rate_limited_total')).toEqual([
      { labels: '{endpoint="token",key="ip"}', value: 2 },
      { labels: '{endpoint="revoke",key="client"}', value: 1 },
      { labels: '{endpoint="failed_client_auth",key="ip"}', value: 1 },
    ]);
  });
});

describe('TrustyMetrics: gauges', () => {
  it(`counts the sessions at most once per ${SESSION_COUNT_MAX_AGE_SECONDS} s of the clock, however often it is scraped`, async () => {
    let now = 1_700_000_000;
    let queries = 0;
    const metrics = open({ ...SOURCES, now: () => now, activeSessions: async () => ++queries * 10 });
    const sessions = async () => samplesOf(await metrics.render(), 'trusty_active_sessions')[0]?.value;
    expect(await Promise.all([sessions(), sessions()])).toEqual([10, 10]);
    now += SESSION_COUNT_MAX_AGE_SECONDS - 1;
    expect(await sessions()).toBe(10);
    now += 1;
    expect(await sessions()).toBe(20);
    expect(queries).toBe(2);
  });

  it('fails the scrape when the sessions cannot be counted, and counts again at the next one', async () => {
    let fail = true;
    const metrics = open({ ...SOURCES, activeSessions: async () => (fail ? Promise.reject(new Error('database is locked')) : 3) });
    await expect(metrics.render()).rejects.toThrow('database is locked');
    fail = false;
    expect(samplesOf(await metrics.render(), 'trusty_active_sessions')).toEqual([{ labels: '', value: 3 }]);
  });

  it('reports the age of the signing key of each algorithm, and the fill of the replay cache', async () => {
    const now = 1_700_000_000;
    const key = (kid: string, alg: 'ES256' | 'RS256', activatesAt: number, retiresAt?: number) => ({ kid, alg, createdAt: activatesAt - 10, activatesAt, retiresAt, removesAt: retiresAt === undefined ? undefined : retiresAt + 3600 });
    const metrics = open({
      ...SOURCES,
      now: () => now,
      // ES256: k1 retired at now - 50, k2 signing since then, k3 published for later; RS256: one key.
      signingKeys: async () => [key('k1', 'ES256', now - 500, now - 50), key('k2', 'ES256', now - 50, now + 1000), key('k3', 'ES256', now + 1000), key('r1', 'RS256', now - 7)],
      replayCache: () => ({ size: 250, capacity: 1000 }),
      pendingPushedRequests: () => 4,
      passwordHashQueue: () => 2,
    });
    const text = await metrics.render();
    expect(samplesOf(text, 'trusty_signing_key_age_seconds')).toEqual([
      { labels: '{alg="ES256"}', value: 50 },
      { labels: '{alg="RS256"}', value: 7 },
    ]);
    expect(samplesOf(text, 'trusty_replay_cache_fill_ratio')).toEqual([{ labels: '', value: 0.25 }]);
    expect(samplesOf(text, 'trusty_par_pending')).toEqual([{ labels: '', value: 4 }]);
    expect(samplesOf(text, 'trusty_password_hash_queue')).toEqual([{ labels: '', value: 2 }]);
  });
});
