import { GRANT_TYPES, TOKEN_ENDPOINT_AUTH_METHODS, isExpired } from '../../domain/client.js';
import type { ActivityReader, ActivityWindows, TokenCounts, WindowCounts } from '../ports/activity-reader.js';
import type { Clock } from '../ports/clock.js';
import type { ClientStore } from '../ports/repositories.js';

/** Clients listed one by one per window in GET /observability/tokens; the others are summed. */
export const OBSERVABILITY_TOP_CLIENTS = 100;
/** Stored clients read per page for GET /observability/clients. */
const CLIENT_PAGE = 200;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** GET /observability/sessions (docs/observability.md). */
export interface SessionsSummary {
  readonly generated_at: string;
  readonly active: number;
  readonly active_users: number;
  readonly started: { readonly last_hour: number; readonly last_day: number };
}

interface TokenEventCounts {
  readonly issued: number;
  readonly revoked: number;
  readonly refresh_token_reused: number;
}

/** One window of GET /observability/tokens. */
export interface TokenWindow extends TokenEventCounts {
  readonly issued_by_grant_type: Readonly<Record<string, number>>;
  /** At most OBSERVABILITY_TOP_CLIENTS, most events first. */
  readonly clients: ReadonlyArray<TokenEventCounts & { readonly client_id: string }>;
  /** The stored clients not listed (how many, and their events) and the events of deleted clients. */
  readonly other_clients: TokenEventCounts & { readonly clients: number };
}

/** GET /observability/tokens. */
export interface TokensSummary {
  readonly generated_at: string;
  readonly client_limit: number;
  readonly last_hour: TokenWindow;
  readonly last_day: TokenWindow;
}

/** GET /observability/clients: total, enabled and disabled count every stored client; the rest, the enabled ones. */
export interface ClientsSummary {
  readonly generated_at: string;
  readonly total: number;
  readonly enabled: number;
  readonly disabled: number;
  /** Enabled, but past their expires_at (service accounts made with one): refused as disabled ones are. */
  readonly expired: number;
  readonly service_accounts: number;
  readonly resource_servers: number;
  readonly by_source: Readonly<Record<string, number>>;
  readonly by_profile: Readonly<Record<string, number>>;
  readonly by_token_endpoint_auth_method: Readonly<Record<string, number>>;
  readonly by_grant_type: Readonly<Record<string, number>>;
}

export interface ObservabilityDeps {
  readonly activity: ActivityReader;
  readonly clients: ClientStore;
  readonly clock: Clock;
  /** The audit log's clock, milliseconds (its at_ms). */
  readonly nowMs: () => number;
  /** Writes the audit events still buffered, so the counts include the last few milliseconds'. */
  readonly flushAudit: () => Promise<void>;
}

/**
 * The observability endpoints' summaries: counts of sessions, token events and clients, never
 * one of them. Callers asking while a summary is being computed share that computation, so a
 * dashboard polling with many panels costs one.
 */
export class Observability {
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: ObservabilityDeps) {}

  sessions(): Promise<SessionsSummary> {
    return this.shared('sessions', async () => {
      const { windows, generatedAt } = await this.windows();
      const activity = await this.deps.activity.sessionActivity(this.deps.clock.now(), windows);
      return {
        generated_at: generatedAt,
        active: activity.active,
        active_users: activity.activeUsers,
        started: { last_hour: activity.started.hour, last_day: activity.started.day },
      };
    });
  }

  tokens(): Promise<TokensSummary> {
    return this.shared('tokens', async () => {
      const { windows, generatedAt } = await this.windows();
      const activity = await this.deps.activity.tokenActivity(windows);
      const window = (pick: (counts: WindowCounts) => number): TokenWindow => {
        const eventsOf = (counts: TokenCounts): TokenEventCounts => ({
          issued: pick(counts.issued),
          revoked: pick(counts.revoked),
          refresh_token_reused: pick(counts.refreshTokenReused),
        });
        const volume = (events: TokenEventCounts) => events.issued + events.revoked + events.refresh_token_reused;
        const active = activity.clients
          .map(({ clientId, counts }) => ({ client_id: clientId, ...eventsOf(counts) }))
          .filter((client) => volume(client) > 0)
          .sort((a, b) => volume(b) - volume(a) || (a.client_id < b.client_id ? -1 : 1));
        const listed = active.slice(0, OBSERVABILITY_TOP_CLIENTS);
        const totals = eventsOf(activity.totals);
        const sum = (key: keyof TokenEventCounts) => totals[key] - listed.reduce((total, client) => total + client[key], 0);
        const byGrant: Record<string, number> = {};
        for (const { grantType, counts } of activity.issuedByGrantType) {
          // '*': the grant types beyond the reader's limit; null: rows that name none.
          const name = grantType === null ? 'unknown' : grantType === '*' ? 'other' : grantType;
          if (pick(counts) > 0) byGrant[name] = (byGrant[name] ?? 0) + pick(counts);
        }
        return {
          ...totals,
          issued_by_grant_type: byGrant,
          clients: listed,
          other_clients: { clients: active.length - listed.length, issued: sum('issued'), revoked: sum('revoked'), refresh_token_reused: sum('refresh_token_reused') },
        };
      };
      return { generated_at: generatedAt, client_limit: OBSERVABILITY_TOP_CLIENTS, last_hour: window((c) => c.hour), last_day: window((c) => c.day) };
    });
  }

  clients(): Promise<ClientsSummary> {
    return this.shared('clients', async () => {
      const generatedAt = new Date(this.deps.nowMs()).toISOString();
      const now = this.deps.clock.now();
      const zeros = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, 0])) as Record<string, number>;
      const summary = {
        total: 0,
        enabled: 0,
        disabled: 0,
        expired: 0,
        service_accounts: 0,
        resource_servers: 0,
        by_source: zeros(['config', 'api']),
        by_profile: zeros(['oidc', 'fapi2']),
        by_token_endpoint_auth_method: zeros(TOKEN_ENDPOINT_AUTH_METHODS),
        by_grant_type: zeros(GRANT_TYPES),
      };
      const add = (counts: Record<string, number>, name: string) => (counts[name] = (counts[name] ?? 0) + 1);
      for (let after: string | undefined; ; ) {
        const page = await this.deps.clients.page({ limit: CLIENT_PAGE, after });
        for (const { client, source, kind, enabled } of page) {
          summary.total++;
          if (!enabled) {
            summary.disabled++;
            continue;
          }
          summary.enabled++;
          if (isExpired(client, now)) summary.expired++;
          if (kind === 'service_account') summary.service_accounts++;
          if (client.resourceServer) summary.resource_servers++;
          add(summary.by_source, source);
          add(summary.by_profile, client.profile);
          add(summary.by_token_endpoint_auth_method, client.tokenEndpointAuthMethod);
          for (const grant of client.grantTypes) add(summary.by_grant_type, grant);
        }
        if (page.length < CLIENT_PAGE) break;
        after = page.at(-1)!.client.clientId;
      }
      return { generated_at: generatedAt, ...summary };
    });
  }

  /** The windows end now; the audit events still buffered are written first. */
  private async windows(): Promise<{ windows: ActivityWindows; generatedAt: string }> {
    await this.deps.flushAudit();
    const now = this.deps.nowMs();
    return { windows: { hourStartMs: now - HOUR_MS, dayStartMs: now - DAY_MS }, generatedAt: new Date(now).toISOString() };
  }

  /** One computation of `key` at a time, shared by whoever asks meanwhile. */
  private shared<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const running = this.pending.get(key) as Promise<T> | undefined;
    if (running !== undefined) return running;
    const started = compute().finally(() => this.pending.delete(key));
    this.pending.set(key, started);
    return started;
  }
}
