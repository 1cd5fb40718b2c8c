import { describe, expect, it } from 'vitest';
import { IDLE_SOURCES, samplesOf } from './fixtures.js';
import { CLIENT_LABEL_BUCKETS, ClientLabels, fnv1a } from './client-labels.js';
import { TrustyMetrics } from './registry.js';

const SOURCES = IDLE_SOURCES;


function issue(metrics: TrustyMetrics, clientId: string, grantType = 'client_credentials') {
  metrics.onAuditEvent({ event: 'token.issued', clientId, details: { grant_type: grantType, jti: 'j' } });
}

describe('ClientLabels: a bounded client_id label', () => {
  it('names the first `limit` clients, then puts each later one in a fixed bucket of 16', () => {
    const labels = new ClientLabels(2);
    expect(labels.of('web-app')).toBe('web-app');
    expect(labels.of('bank-app')).toBe('bank-app');
    expect(labels.of('agent-1')).toBe(`other-${fnv1a('agent-1') % CLIENT_LABEL_BUCKETS}`);
    // The first ones keep their names; a bucketed client stays in its bucket.
    expect(labels.of('web-app')).toBe('web-app');
    expect(labels.of('agent-1')).toBe(labels.of('agent-1'));
  });

  it('hashes with 32-bit FNV-1a, so a bucket is the same after a restart and on every node', () => {
    // Reference values of FNV-1a 32 (the offset basis for "", and "a").
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(new ClientLabels(0).of('a')).toBe(`other-${0xe40c292c % 16}`);
  });

  it('with client_labels 0, every client is bucketed', () => {
    const labels = new ClientLabels(0);
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => labels.of(`agent-${i}`)));
    expect([...seen].every((label) => /^other-(\d|1[0-5])$/.test(label))).toBe(true);
    expect(seen.size).toBe(16);
  });

  it('10 000 distinct clients give at most client_labels + 16 series of trusty_tokens_issued_total, and no token is lost', async () => {
    const metrics = new TrustyMetrics({ auth: 'none', token: undefined }, 100, SOURCES);
    for (let i = 0; i < 10_000; i++) issue(metrics, `agent-${i}`);
    const series = samplesOf(await metrics.render(), 'trusty_tokens_issued_total');
    expect(series.length).toBeLessThanOrEqual(100 + 16);
    expect(series.length).toBe(116);
    expect(series.reduce((sum, s) => sum + s.value, 0)).toBe(10_000);
    expect(series.filter((s) => s.labels.includes('client_id="agent-')).every((s) => s.value === 1)).toBe(true);
    expect(series.find((s) => s.labels === '{grant_type="client_credentials",client_id="agent-99"}')?.value).toBe(1);
    expect(series.some((s) => s.labels.includes('client_id="agent-100"'))).toBe(false);
  });

  it('counts an unknown grant_type as "other" (the label stays bounded whatever an event carries)', async () => {
    const metrics = new TrustyMetrics({ auth: 'none', token: undefined }, 100, SOURCES);
    issue(metrics, 'web-app', 'authorization_code');
    issue(metrics, 'web-app', 'urn:made:up');
    const series = samplesOf(await metrics.render(), 'trusty_tokens_issued_total');
    expect(series).toEqual([
      { labels: '{grant_type="authorization_code",client_id="web-app"}', value: 1 },
      { labels: '{grant_type="other",client_id="web-app"}', value: 1 },
    ]);
  });
});
