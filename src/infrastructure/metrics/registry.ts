import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ClientAuthenticatedEndpoint, RateLimitedListener } from '../../application/ports/rate-limiter.js';
import type { AuditEvent } from '../../application/ports/repositories.js';
import type { SigningAlg } from '../../domain/client.js';
import { stateAt, type KeyTimeline } from '../../domain/signing-key.js';
import { HttpRequests } from './http-requests.js';
import { registerScraped } from './scraped.js';
import { TokensIssued } from './tokens-issued.js';

/** Every name starts with this (process metrics too): one prefix to find Trusty's in Prometheus. */
export const METRIC_PREFIX = 'trusty_';

/** config `metrics` as the /metrics route needs it (src/config/schema.ts). */
export interface MetricsAccess {
  /** none: open; token: `Authorization: Bearer <token>`; admin: a management-API token with trusty:metrics or trusty:admin. */
  readonly auth: 'none' | 'token' | 'admin';
  readonly token: string | undefined;
}

/** What the gauges read, at scrape time only (wired in src/container.ts). */
export interface MetricSources {
  /** Seconds since the epoch (the injected clock). */
  now(): number;
  /** Sessions not ended and not expired at `now` (one COUNT query: SessionRepository.countLive). */
  activeSessions(now: number): Promise<number>;
  /** Pushed authorization requests held (MemoryParStore.size). */
  pendingPushedRequests(): number;
  /** The replay cache's keys held and its capacity (MemoryReplayCache). */
  replayCache(): { readonly size: number; readonly capacity: number };
  /** Every stored signing key with its dates (SigningKeyLifecycle.list). */
  signingKeys(): Promise<readonly KeyTimeline[]>;
  /** Password hashes running or waiting for a thread (BcryptPasswordHasher.queueLength). */
  passwordHashQueue(): number;
}

/**
 * The sessions COUNT runs at most once per this many seconds (of the injected clock), whatever
 * the scrape rate; concurrent scrapes share it. It scans the live part of the expires_at index
 * and reads each row (about 60 ms for 180 000 live sessions, measured), on the event loop: an
 * open /metrics must not let anyone repeat that at will. Prometheus scrapes every 15 s or so.
 */
export const SESSION_COUNT_MAX_AGE_SECONDS = 10;

/**
 * The metrics of one server (docs/metrics.md lists them): a registry of its own, not
 * prom-client's global one, so several servers in one process (the tests) keep apart. Counters
 * move as things happen — HTTP responses (src/http/routes/metrics.ts), audit events (onAuditEvent,
 * given to SqliteAuditLog.listen), refusals — and gauges are computed only when scraped.
 */
export class TrustyMetrics {
  readonly registry = new Registry();
  readonly http = new HttpRequests();
  private readonly tokensIssued: TokensIssued;
  private readonly tokenErrors: Counter<'endpoint' | 'error'>;
  private readonly loginSuccesses: { inc(value?: number): void };
  private readonly loginFailures: { inc(value?: number): void };
  private readonly lockouts: Counter;
  private readonly clientAuthFailures: Counter;
  private readonly refreshTokenReuse: Counter;
  private readonly rateLimited: Counter<'endpoint' | 'key'>;

  constructor(
    readonly access: MetricsAccess,
    /** config metrics.client_labels: clients with a label of their own (src/infrastructure/metrics/client-labels.ts). */
    clientLabels: number,
    sources: MetricSources,
  ) {
    const registers = [this.registry];
    registerScraped(this.registry, this.http.requests);
    registerScraped(this.registry, this.http.duration);
    this.tokensIssued = new TokensIssued(clientLabels);
    registerScraped(this.registry, this.tokensIssued);

    this.tokenErrors = new Counter({
      name: 'trusty_token_errors_total',
      help: 'Error responses of /token, /par, /introspect and /revoke, by endpoint and OAuth error code (RFC 6749 §5.2)',
      labelNames: ['endpoint', 'error'],
      registers,
    });
    const logins = new Counter({ name: 'trusty_logins_total', help: 'Login form submissions, by result (audit events login.success and login.failure)', labelNames: ['result'], registers });
    logins.inc({ result: 'success' }, 0);
    logins.inc({ result: 'failure' }, 0);
    this.loginSuccesses = logins.labels('success');
    this.loginFailures = logins.labels('failure');
    this.lockouts = new Counter({ name: 'trusty_account_lockouts_total', help: 'Locks of existing accounts after repeated failed logins, repeat locks included (audit event user.locked)', registers });
    this.clientAuthFailures = new Counter({
      name: 'trusty_client_auth_failures_total',
      help: 'Refused client authentications at /token, /par, /introspect and /revoke (audit client.auth_failed; those the audit log summarises are added when their minute ends)',
      registers,
    });
    this.refreshTokenReuse = new Counter({
      name: 'trusty_refresh_token_reuse_total',
      help: 'Refresh tokens presented again after rotation: each revoked its grant (audit event refresh_token.reused)',
      registers,
    });
    this.rateLimited = new Counter({
      name: 'trusty_rate_limited_total',
      help: 'Requests refused with 429 by a rate limit, by budget (endpoint: the endpoint\'s, or failed_client_auth) and by what was counted (key="ip": the address, "client": the authenticated client)',
      labelNames: ['endpoint', 'key'],
      registers,
    });

    let sessions: { readonly at: number; readonly count: Promise<number> } | undefined;
    new Gauge({
      name: 'trusty_active_sessions',
      help: `Browser sessions neither ended nor expired (one COUNT over the sessions table, at most every ${SESSION_COUNT_MAX_AGE_SECONDS} s)`,
      registers,
      async collect() {
        const now = sources.now();
        if (sessions === undefined || now - sessions.at >= SESSION_COUNT_MAX_AGE_SECONDS) sessions = { at: now, count: sources.activeSessions(now) };
        const counting = sessions;
        try {
          this.set(await counting.count);
        } catch (error) {
          // Counted again at the next scrape; this one fails (500), as Prometheus expects of a collector that cannot read.
          if (sessions === counting) sessions = undefined;
          throw error;
        }
      },
    });
    new Gauge({
      name: 'trusty_par_pending',
      help: 'Pushed authorization requests held, waiting for their browser (expired ones until dropped)',
      registers,
      collect() {
        this.set(sources.pendingPushedRequests());
      },
    });
    new Gauge({
      name: 'trusty_replay_cache_fill_ratio',
      help: 'Remembered client-assertion and DPoP jti values over the replay cache capacity (at 1 new ones are refused with 503)',
      registers,
      collect() {
        const { size, capacity } = sources.replayCache();
        this.set(capacity > 0 ? size / capacity : 0);
      },
    });
    new Gauge({
      name: 'trusty_signing_key_age_seconds',
      help: 'Seconds since the signing key of each algorithm started signing (compare with keys.rotation_interval_days)',
      labelNames: ['alg'],
      registers,
      async collect() {
        const now = sources.now();
        this.reset();
        for (const [alg, activatesAt] of activeKeys(await sources.signingKeys(), now)) this.set({ alg }, now - activatesAt);
      },
    });
    new Gauge({
      name: 'trusty_password_hash_queue',
      help: 'Password hashes (logins, password changes) running or waiting for a hashing thread',
      registers,
      collect() {
        this.set(sources.passwordHashQueue());
      },
    });
    // Process metrics (CPU, memory, event loop lag, GC, handles), read at scrape; GC durations
    // through a PerformanceObserver and the event loop lag through monitorEventLoopDelay.
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  /**
   * Given to SqliteAuditLog.listen: called synchronously for every event recorded, on the
   * token endpoint's hot path among others, so it only compares the event's name and adds.
   */
  readonly onAuditEvent = (event: AuditEvent): void => {
    switch (event.event) {
      case 'token.issued':
        this.tokensIssued.count(event.clientId, event.details?.grant_type);
        return;
      case 'login.success':
        this.loginSuccesses.inc();
        return;
      case 'login.failure':
        this.loginFailures.inc();
        return;
      case 'user.locked':
        this.lockouts.inc();
        return;
      case 'client.auth_failed': {
        // FailedClientAuthLog writes the first failures of a minute in full (one each) and the
        // rest as one summary per key when the minute ends (details.suppressed: how many).
        const suppressed = event.details?.suppressed;
        this.clientAuthFailures.inc(typeof suppressed === 'number' && Number.isSafeInteger(suppressed) && suppressed > 0 ? suppressed : 1);
        return;
      }
      case 'refresh_token.reused':
        this.refreshTokenReuse.inc();
        return;
      default:
        return;
    }
  };

  /** An error response of a client-authenticated endpoint; `error` is its RFC 6749 §5.2 code (a bounded set). */
  countTokenError(endpoint: ClientAuthenticatedEndpoint, error: string): void {
    this.tokenErrors.inc({ endpoint, error });
  }

  /**
   * For the rate limits (src/application/ports/rate-limiter.ts, RateLimitedListener): one request
   * refused with 429 by a budget: an endpoint's, or failed_client_auth (an address's failed client
   * authentications); `key` is what was counted, the caller's address ('ip') or its authenticated
   * client. Both names come from fixed lists, so the series are few. Bound, so it can be passed as
   * a callback.
   */
  readonly countRateLimited: RateLimitedListener = (budget, key) => {
    this.rateLimited.inc({ endpoint: budget, key });
  };

  /** The Prometheus text exposition of everything (runs the gauges' queries). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The key signing now for each algorithm, with the second it started. */
function activeKeys(keys: readonly KeyTimeline[], now: number): Map<SigningAlg, number> {
  const active = new Map<SigningAlg, number>();
  for (const key of keys) {
    if (stateAt(key, now) !== 'active') continue;
    const seen = active.get(key.alg);
    if (seen === undefined || key.activatesAt > seen) active.set(key.alg, key.activatesAt);
  }
  return active;
}
