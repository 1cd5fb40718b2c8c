import { describe, expect, it } from 'vitest';
import type { ActivityReader, TokenActivity, TokenCounts } from '../ports/activity-reader.js';
import type { ClientStore } from '../ports/repositories.js';
import { OBSERVABILITY_TOP_CLIENTS, Observability } from './observability.js';

const NOW_MS = Date.parse('2026-01-31T12:00:00Z');
const counts = (issuedDay: number, issuedHour = 0, revokedDay = 0): TokenCounts => ({
  issued: { day: issuedDay, hour: issuedHour },
  revoked: { day: revokedDay, hour: 0 },
  refreshTokenReused: { day: 0, hour: 0 },
});

function observability(activity: TokenActivity, calls = { tokens: 0 }): Observability {
  const reader: ActivityReader = {
    async tokenActivity(windows) {
      calls.tokens++;
      expect(windows).toEqual({ hourStartMs: NOW_MS - 3_600_000, dayStartMs: NOW_MS - 86_400_000 });
      return activity;
    },
    sessionActivity: async () => ({ active: 0, activeUsers: 0, started: { day: 0, hour: 0 } }),
  };
  return new Observability({ activity: reader, clients: {} as ClientStore, clock: { now: () => NOW_MS / 1000 }, nowMs: () => NOW_MS, flushAudit: async () => {} });
}

describe('Observability.tokens', () => {
  it(`lists at most ${OBSERVABILITY_TOP_CLIENTS} clients per window, most events first, and sums the others (deleted clients included)`, async () => {
    // 150 clients: client-000 has 150 tokens, client-149 one; client-149 alone was active in the hour.
    const clients = Array.from({ length: 150 }, (_, i) => ({ clientId: `client-${String(i).padStart(3, '0')}`, counts: counts(150 - i, i === 149 ? 1 : 0) }));
    const issuedDay = clients.reduce((sum, client) => sum + client.counts.issued.day, 0);
    const summary = await observability({
      // 7 tokens of a deleted client: in the totals, not among the clients.
      totals: counts(issuedDay + 7, 1, 0),
      issuedByGrantType: [
        { grantType: 'client_credentials', counts: { day: issuedDay + 7, hour: 1 } },
        { grantType: 'authorization_code', counts: { day: 0, hour: 0 } },
      ],
      clients,
    }).tokens();
    expect(summary.generated_at).toBe('2026-01-31T12:00:00.000Z');
    expect(summary.last_day.clients).toHaveLength(OBSERVABILITY_TOP_CLIENTS);
    expect(summary.last_day.clients[0]).toEqual({ client_id: 'client-000', issued: 150, revoked: 0, refresh_token_reused: 0 });
    expect(summary.last_day.clients.at(-1)).toEqual({ client_id: 'client-099', issued: 51, revoked: 0, refresh_token_reused: 0 });
    const unlisted = clients.slice(OBSERVABILITY_TOP_CLIENTS).reduce((sum, client) => sum + client.counts.issued.day, 0);
    expect(summary.last_day.other_clients).toEqual({ clients: 50, issued: unlisted + 7, revoked: 0, refresh_token_reused: 0 });
    // Grant types with nothing in the window are left out.
    expect(summary.last_day.issued_by_grant_type).toEqual({ client_credentials: issuedDay + 7 });
    expect(summary.last_hour).toEqual({
      issued: 1,
      revoked: 0,
      refresh_token_reused: 0,
      issued_by_grant_type: { client_credentials: 1 },
      clients: [{ client_id: 'client-149', issued: 1, revoked: 0, refresh_token_reused: 0 }],
      other_clients: { clients: 0, issued: 0, revoked: 0, refresh_token_reused: 0 },
    });
  });

  it('ranks by all token events, then by client_id; names the grant-type-less and the overflow rows', async () => {
    const summary = await observability({
      totals: counts(4, 0, 2),
      issuedByGrantType: [
        { grantType: 'x', counts: { day: 1, hour: 0 } },
        { grantType: '*', counts: { day: 2, hour: 0 } },
        { grantType: null, counts: { day: 1, hour: 0 } },
      ],
      clients: [
        { clientId: 'b', counts: counts(1) },
        { clientId: 'a', counts: counts(1) },
        { clientId: 'c', counts: counts(0, 0, 2) },
      ],
    }).tokens();
    expect(summary.last_day.clients.map((client) => client.client_id)).toEqual(['c', 'a', 'b']);
    expect(summary.last_day.issued_by_grant_type).toEqual({ x: 1, other: 2, unknown: 1 });
    expect(summary.last_day.other_clients).toEqual({ clients: 0, issued: 2, revoked: 0, refresh_token_reused: 0 });
  });

  it('callers asking meanwhile share one computation', async () => {
    const calls = { tokens: 0 };
    const service = observability({ totals: counts(0), issuedByGrantType: [], clients: [] }, calls);
    const [first, second] = await Promise.all([service.tokens(), service.tokens()]);
    expect(first).toBe(second);
    expect(calls.tokens).toBe(1);
    await service.tokens();
    expect(calls.tokens).toBe(2);
  });
});
