import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { createLogger } from './infrastructure/logger.js';
import { AuthorizationService } from './application/authorize/authorization-service.js';
import type { GrantDeps } from './application/grants/grant.js';
import { systemClock, type Clock } from './application/ports/clock.js';
import { AccessTokenVerifier } from './application/services/access-token-verifier.js';
import { ClientAuthenticator } from './application/services/client-authenticator.js';
import { IdTokenHints } from './application/services/id-token-hint.js';
import { EXPIRY_NOTICES_PER_PURGE, LogoutService } from './application/services/logout-service.js';
import { TokenStatus } from './application/services/token-status.js';
import { HttpLogoutSender } from './infrastructure/http-logout-sender.js';
import { buildDiscoveryDocument, CLIENT_AUTHENTICATED_PATHS, PATHS } from './application/services/discovery.js';
import { DpopVerifier } from './application/services/dpop-verifier.js';
import { PushedRequests } from './application/authorize/pushed-requests.js';
import { seed } from './application/services/seed.js';
import { SessionService } from './application/services/session-service.js';
import { TokenIssuer } from './application/services/token-issuer.js';
import type { LoadedConfig } from './config/load.js';
import { clientFromConfig } from './config/to-domain.js';
import type { HttpDeps } from './http/deps.js';
import { SUPPORTED_LANGUAGES } from './http/plugins/language.js';
import { BcryptPasswordHasher } from './infrastructure/bcrypt-password-hasher.js';
import { passwordHashingThreads, poolSize } from './infrastructure/thread-pool.js';
import { openDatabase, type Db } from './infrastructure/db/database.js';
import { migrate } from './infrastructure/db/migrate.js';
import { MemoryParStore } from './infrastructure/cache/memory-par-store.js';
import { MemoryReplayCache } from './infrastructure/cache/memory-replay-cache.js';
import { HmacDpopNonces } from './infrastructure/dpop-nonces.js';
import { RotatingSecret } from './infrastructure/rotating-secret.js';
import { CachedClientKeys } from './infrastructure/keys/client-jwks.js';
import type { SqliteKeyStore } from './infrastructure/keys/sqlite-key-store.js';
import { KEY_MAINTENANCE_INTERVAL_MS, openSigningKeys, type SigningKeys } from './infrastructure/keys/open-keys.js';
import { KeyAdmin } from './application/admin/keys.js';
import { SqliteAuditLog } from './infrastructure/sqlite/audit-log.js';
import { SqliteAuditReader } from './infrastructure/sqlite/audit-reader.js';
import { AuditQuery } from './application/admin/audit.js';
import { Observability } from './application/admin/observability.js';
import { SqliteActivityReader } from './infrastructure/sqlite/activity-reader.js';
import { FailedClientAuthLog } from './application/services/failed-client-auth.js';
import { SqliteAuthorizationCodeRepository } from './infrastructure/sqlite/authorization-code-repository.js';
import { SqliteClientRepository } from './infrastructure/sqlite/client-repository.js';
import { ClientAdmin } from './application/admin/clients.js';
import { ServiceAccountAdmin } from './application/admin/service-accounts.js';
import { clientEntryRules } from './config/client-api.js';
import { SqliteConsentRepository } from './infrastructure/sqlite/consent-repository.js';
import { SqliteInteractionRepository } from './infrastructure/sqlite/interaction-repository.js';
import { purgeExpired, type PurgeReport } from './infrastructure/sqlite/purge.js';
import { SqliteReplayWatermark } from './infrastructure/sqlite/replay-watermark.js';
import { SqliteRefreshTokenRepository } from './infrastructure/sqlite/refresh-token-repository.js';
import { SqliteServerSecrets } from './infrastructure/sqlite/server-secrets.js';
import { SqliteSessionRepository } from './infrastructure/sqlite/session-repository.js';
import { SqliteTokenRevocations } from './infrastructure/sqlite/token-revocations.js';
import { SqliteUserRepository } from './infrastructure/sqlite/user-repository.js';
import { ControlVersion } from './infrastructure/sqlite/control-version.js';
import { TrustyMetrics } from './infrastructure/metrics/registry.js';
import { SqliteLoginLockoutStore } from './infrastructure/sqlite/login-lockouts.js';
import { MemoryLoginLockoutStore } from './infrastructure/cache/memory-login-lockouts.js';
import { AccountLockout } from './application/services/account-lockout.js';
import { inMemoryRateLimiter } from './infrastructure/rate-limit/store-rate-limiter.js';
import { LocalFailureBudget } from './infrastructure/rate-limit/failure-budget.js';
import { ClientRateLimits, type ClientBudget } from './application/services/client-rate-limits.js';
import {
  CLIENT_AUTHENTICATED_ENDPOINTS,
  perEndpoint,
  type RateLimitedListener,
} from './application/ports/rate-limiter.js';
import { ADDRESSES_PER_BUDGET, type AddressLimits } from './http/plugins/rate-limit.js';
import { SqliteReadiness } from './infrastructure/sqlite/readiness.js';
import { securityLogLine } from './infrastructure/security-log.js';
import type { KeyStore } from './application/ports/key-store.js';
import { SIGNING_ALGS } from './domain/client.js';
import type { ReadinessReport } from './http/deps.js';
import { SqliteRoleRepository } from './infrastructure/sqlite/role-repository.js';
import { RoleAccess } from './application/services/role-access.js';
import { RoleAdmin } from './application/admin/roles.js';
import { seedRoles } from './application/services/seed-roles.js';
import { roleEntryRules, roleFromConfig } from './config/role-api.js';
import type { ControlPlane } from './application/admin/control-plane.js';
import { SessionAdmin } from './application/admin/sessions.js';
import { TokenAdmin } from './application/admin/tokens.js';
import { UserAdmin } from './application/admin/users.js';
import { userEntryRules } from './config/user-api.js';

/** How often the rotating server secrets are reloaded (the next epoch's exists in advance). */
const SERVER_SECRETS_REFRESH_MS = 60 * 60_000;
/** The DPoP nonce key rotates this often; nonces are checked against the current and previous one. */
const DPOP_NONCE_SECRET_ROTATION = 30 * 86_400;
/** How often expired codes, sessions, tokens and old audit events are deleted. */
const PURGE_INTERVAL_MS = 10 * 60_000;
/**
 * Made-up usernames whose failed logins are counted, in memory (docs/lockout.md): about 200 bytes
 * each, 2 MB. Beyond it the least recently used made-up name is forgotten, never a real user's count.
 */
const UNKNOWN_USERNAMES_TRACKED = 10_000;
/**
 * What callers can make the server keep before anyone signed in, bounded overall and per client
 * so that one client (a public one needs no secret) cannot lock the others out; beyond a bound
 * the caller gets 503 temporarily_unavailable. createTrusty's last argument lowers them in tests.
 */
export interface Bounds {
  /** Pushed requests waiting for the browser (about 1 KB each). */
  readonly parStoreCapacity: number;
  /** Of which from one client: a burst of 1 000 requests within request_uri_ttl (60 s). */
  readonly parPerClient: number;
  /** Live interactions (sign-ins under way, rows of about 3 KB at most: 60 MB). */
  readonly interactions: number;
  /** Of which for one client. */
  readonly interactionsPerClient: number;
  /**
   * Live single-use values remembered (client-assertion and DPoP jti), about 53 bytes each: at
   * most 53 MB. Remembered only for an authenticated client, in that client's share.
   */
  readonly replayCacheCapacity: number;
  /**
   * Of which for one confidential client: 1 600 private_key_jwt requests per second held 300 s
   * each (bench scenario b keeps about 150 000); one client at its share leaves half for the rest.
   */
  readonly replayPerClient: number;
  /**
   * Of which for one public client, which anyone can act as: 280 DPoP requests per second held
   * 70 s, remembered only once a code or refresh token checked out; its /par proofs have another
   * share of this size (src/http/routes/par.ts).
   */
  readonly replayPerPublicClient: number;
}

export const BOUNDS: Bounds = {
  parStoreCapacity: 20_000,
  parPerClient: 1_000,
  interactions: 20_000,
  interactionsPerClient: 1_000,
  replayCacheCapacity: 1_000_000,
  replayPerClient: 500_000,
  replayPerPublicClient: 20_000,
};

export interface Trusty {
  readonly deps: HttpDeps;
  readonly db: Db;
  /** Deletes expired rows now (it also runs every PURGE_INTERVAL_MS). */
  purge(): Promise<PurgeReport>;
  /** The scheduled key rotation, now (it also runs every KEY_MAINTENANCE_INTERVAL_MS and at start). */
  maintainKeys(): Promise<void>;
  /** Flushes the audit log and closes the database. */
  close(): Promise<void>;
}

/**
 * The injected clock in milliseconds: its whole seconds (a test's clock moves them) plus the
 * system clock's fraction, for the lockout's waits of a second or two. Read again when the
 * system clock crossed a second between the two reads (the sum would be a second off).
 */
function millisecondsOf(clock: Clock): () => number {
  return () => {
    for (;;) {
      const before = Date.now();
      const seconds = clock.now();
      const after = Date.now();
      if (Math.floor(before / 1000) === Math.floor(after / 1000)) return (seconds - Math.floor(before / 1000)) * 1000 + after;
    }
  };
}

/** Resolves once `clock` is past `second` (at most about a second; gives up on a stopped clock). */
async function afterSecond(clock: Clock, second: number): Promise<void> {
  for (let attempt = 0; attempt < 2 && clock.now() <= second; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
  }
}

/**
 * What the server and the CLI share: the database (migrated), the signing keys, the repositories
 * and the services the control plane uses. Nothing here listens, sleeps or runs a timer.
 */
export interface Core {
  readonly config: LoadedConfig;
  readonly db: Db;
  readonly clock: Clock;
  readonly changes: ControlVersion;
  readonly keys: SqliteKeyStore;
  /** The stored keys, their rotation and the store's reload (src/infrastructure/keys/open-keys.ts). */
  readonly signingKeys: SigningKeys;
  readonly clients: SqliteClientRepository;
  readonly users: SqliteUserRepository;
  readonly passwords: BcryptPasswordHasher;
  readonly audit: SqliteAuditLog;
  readonly revocations: SqliteTokenRevocations;
  readonly sessionRepository: SqliteSessionRepository;
  readonly sessions: SessionService;
  readonly idTokenHints: IdTokenHints;
  readonly logoutSender: HttpLogoutSender;
  readonly logout: LogoutService;
  readonly roles: SqliteRoleRepository;
  readonly roleAccess: RoleAccess;
  /** Failed logins in a row per account (docs/lockout.md): the login and the control plane's unlock. */
  readonly lockout: AccountLockout;
  /** The last migration version this build applied (for /health/ready). */
  readonly schemaVersion: number;
}

/** Opens and migrates the database and builds the Core (the caller closes core.db on failure). */
async function openCore(config: LoadedConfig, log: Logger, clock: Clock, db: Db): Promise<Core> {
  const now = () => clock.now();
  const migrations = migrate(db.sqlite);
  if (migrations.applied.length > 0) log.info({ applied: migrations.applied }, 'database migrated');
  const changes = new ControlVersion(db.sqlite);

  // TRUSTY_KEK (docs/keys.md) seals the private keys; a sealed database without it fails here.
  const signingKeys = await openSigningKeys(db.kysely, config, changes, clock, log);
  const keys = signingKeys.store;

  const clients = new SqliteClientRepository(db.kysely, now, changes);
  const users = new SqliteUserRepository(db.kysely, now, changes);
  const passwords = new BcryptPasswordHasher(config.passwords.bcrypt_cost, passwordHashingThreads(poolSize(process.env.UV_THREADPOOL_SIZE)));
  // Milliseconds for ordering, shifted by whatever offset the injected clock has (tests move it).
  const audit = new SqliteAuditLog(db.sqlite, log, millisecondsOf(clock));
  audit.listen(securityLogLine(log));
  const revocations = SqliteTokenRevocations.open(db, now, changes);
  const sessionRepository = new SqliteSessionRepository(db.kysely);
  const sessions = new SessionService(sessionRepository, clock, config.session.ttl);
  const idTokenHints = new IdTokenHints(keys, config.issuer);
  const logoutSender = new HttpLogoutSender(log);
  const logout = new LogoutService({ issuer: config.issuer, clients, keys, hints: idTokenHints, sessions, sender: logoutSender, audit, clock });
  const roles = new SqliteRoleRepository(db.kysely, db.sqlite, now, changes);
  const roleAccess = new RoleAccess(roles);
  const lockout = new AccountLockout(
    // The HMAC key of made-up names lives and dies with the process, as their counts do.
    { users: new SqliteLoginLockoutStore(db.kysely), unknownNames: new MemoryLoginLockoutStore(UNKNOWN_USERNAMES_TRACKED, randomBytes(32)) },
    { enabled: config.lockout.enabled, policy: { freeFailures: config.lockout.free_failures, lockAfter: config.lockout.lock_after, lockMs: config.lockout.lock_seconds * 1000 } },
    millisecondsOf(clock),
  );
  return { config, db, clock, changes, keys, signingKeys, clients, users, passwords, audit, revocations, sessionRepository, sessions, idTokenHints, logoutSender, logout, roles, roleAccess, lockout, schemaVersion: migrations.current };
}

/** The control plane's services over the Core: the management API and the CLI call these. */
function buildControlPlane(core: Core): ControlPlane {
  const users = new UserAdmin({ users: core.users, rules: userEntryRules, passwords: core.passwords, sessions: core.logout, audit: core.audit, clock: core.clock, lockout: core.lockout });
  const roles = new RoleAdmin({
    roles: core.roles,
    rules: roleEntryRules,
    principals: {
      client: (clientId) => core.clients.get(clientId),
      user: (ref) => users.lookup(ref),
    },
    audit: core.audit,
  });
  const clients = new ClientAdmin({
    store: core.clients,
    rules: clientEntryRules,
    audit: core.audit,
    clock: core.clock,
    // Roles named in a client body are checked (in memory) before the client is written.
    roles: {
      roleScopes: (name) => core.roles.snapshot().roles.get(name)?.scopes,
      setClientRoles: (actor, clientId, names) => roles.setClientRoles(actor, clientId, names),
    },
    // Its roles' scopes count: a role granting trusty:admin makes its holder an admin client.
    scopesOf: (client) => core.roleAccess.forClient(client).scopes,
  });
  return {
    clients,
    serviceAccounts: new ServiceAccountAdmin(clients, { issuer: core.config.issuer, tokenEndpoint: core.config.issuer + PATHS.token }),
    flush: () => core.audit.flush(),
    scopesOf: (client) => core.roleAccess.forClient(client).scopes,
    roles,
    keys: new KeyAdmin({ keys: core.signingKeys.lifecycle, audit: core.audit, clock: core.clock }),
    users,
    sessions: new SessionAdmin({ sessions: core.sessionRepository, users, ended: core.logout, audit: core.audit, clock: core.clock }),
    tokens: new TokenAdmin({ revocations: core.revocations, users, ended: core.logout, audit: core.audit, clock: core.clock }),
    audit: new AuditQuery(new SqliteAuditReader(core.db.sqlite), core.audit, core.clock),
  };
}

/** /health/ready's checks: the database answers, its schema is this build's, every algorithm has a signing key. */
function readinessOf(database: SqliteReadiness, keys: KeyStore): () => ReadinessReport {
  return () => {
    const checks: Record<string, string> = { ...database.check(), keys: 'ok' };
    for (const alg of SIGNING_ALGS) {
      try {
        keys.signingKey(alg);
      } catch (error) {
        checks.keys = `no signing key for ${alg}: ${error instanceof Error ? error.message : String(error)}`;
        break;
      }
    }
    return { ready: Object.values(checks).every((result) => result === 'ok'), checks };
  };
}

/** The server's metrics (docs/metrics.md): counted from the audit log's events, gauges read at scrape. */
function metricsOf(core: Core, parStore: MemoryParStore, replay: MemoryReplayCache): TrustyMetrics {
  const { config, clock } = core;
  const metrics = new TrustyMetrics({ auth: config.metrics.auth, token: config.metrics.token }, config.metrics.client_labels, {
    now: () => clock.now(),
    activeSessions: (now) => core.sessionRepository.countLive(now),
    pendingPushedRequests: () => parStore.size,
    replayCache: () => replay,
    signingKeys: () => core.signingKeys.lifecycle.list(),
    passwordHashQueue: () => core.passwords.queueLength(),
  });
  core.audit.listen(metrics.onAuditEvent);
  return metrics;
}

/** A logger writing synchronously to stderr (the CLI's: its stdout is the command's output). */
export function stderrLogger(level: string): Logger {
  return createLogger(level, pino.destination({ fd: 2, sync: true }));
}

/** The control plane alone, for the CLI: no seed, no listener, no timer; close() flushes and closes. */
export async function openControlPlane(config: LoadedConfig, log: Logger, clock: Clock = systemClock): Promise<{ control: ControlPlane; close(): Promise<void> }> {
  const db = openDatabase(config.database.path);
  try {
    const core = await openCore(config, log, clock, db);
    return {
      control: buildControlPlane(core),
      async close() {
        await core.logoutSender.drain();
        await core.audit.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/**
 * rate_limits: per address (src/http/plugins/rate-limit.ts, over @fastify/rate-limit's store), per
 * authenticated client (ClientAuthenticator), and failed client authentications per address;
 * nothing at all when disabled.
 */
function rateLimitsOf(config: LoadedConfig, onRefused?: RateLimitedListener): { perAddress: AddressLimits; perClient: ClientRateLimits } | undefined {
  const settings = config.rate_limits;
  if (!settings.enabled) return undefined;
  const window = settings.window_seconds;
  const budgets = new Map<string, ClientBudget>(
    CLIENT_AUTHENTICATED_ENDPOINTS.map((endpoint): [string, ClientBudget] => [
      config.issuer + CLIENT_AUTHENTICATED_PATHS[endpoint],
      { endpoint, limiter: inMemoryRateLimiter(settings.per_client[endpoint], window, CLIENTS_PER_BUDGET) },
    ]),
  );
  return {
    perAddress: {
      perIp: perEndpoint((budget) => inMemoryRateLimiter(settings.per_ip[budget], window, ADDRESSES_PER_BUDGET)),
      failedClientAuth: new LocalFailureBudget(settings.per_ip.failed_client_auth, window, ADDRESSES_PER_BUDGET),
      onRefused,
    },
    perClient: new ClientRateLimits(budgets, onRefused),
  };
}

/** Clients counted per endpoint at once: one counter each, only for clients that authenticated. */
const CLIENTS_PER_BUDGET = 10_000;

/** The composition root: opens storage, migrates, loads keys, seeds config, wires services. */
export async function createTrusty(config: LoadedConfig, log: Logger, clock: Clock = systemClock, lowered: Partial<Bounds> = {}): Promise<Trusty> {
  const bounds = { ...BOUNDS, ...lowered };
  const now = () => clock.now();
  const db = openDatabase(config.database.path);
  try {
    const core = await openCore(config, log, clock, db);
    const { keys, clients, users, passwords, audit, revocations, sessionRepository, sessions, idTokenHints, logoutSender, logout } = core;
    const failedClientAuth = new FailedClientAuthLog(audit);
    const report = await seed(
      { clients: config.clients.map(clientFromConfig), users: config.users.map((u) => ({ username: u.username, password: u.password, claims: u.claims })) },
      { clients, users, passwords },
    );
    log.info(report, 'configured clients and users seeded');
    const roleReport = await seedRoles(
      {
        roles: config.roles.map((role) => roleFromConfig(role)),
        clients: config.clients.map((c) => ({ clientId: c.client_id, roles: c.roles })),
        users: config.users.map((u) => ({ username: u.username, roles: u.roles })),
      },
      { roles: core.roles, users },
    );
    log.info(roleReport, 'configured roles seeded');
    for (const client of config.clients) {
      if (client.client_secret !== undefined && client.client_secret.length < 32) {
        log.warn({ client_id: client.client_id }, 'client_secret is shorter than 32 characters: use a long random secret');
      }
    }

    // Contract: removing a client or user from config.yaml disables it at the next start.
    for (const clientId of report.disabled.clients) audit.record({ event: 'client.disabled', clientId, details: { reason: 'removed from config.yaml' } });
    for (const userId of report.disabled.users) audit.record({ event: 'user.disabled', userId, details: { reason: 'removed from config.yaml' } });
    const interactions = new SqliteInteractionRepository(db.kysely, now);
    const codes = new SqliteAuthorizationCodeRepository(db.kysely);
    const tokens = new TokenIssuer(keys, clock, {
      issuer: config.issuer,
      accessTokenTtl: config.tokens.access_token_ttl,
      idTokenTtl: config.tokens.id_token_ttl,
    });
    const grants: GrantDeps = {
      codes,
      refreshTokens: new SqliteRefreshTokenRepository(db.kysely),
      revocations,
      users,
      tokens,
      audit,
      clock,
      refresh: { ttl: config.tokens.refresh_token_ttl, idleTtl: config.tokens.refresh_token_idle_ttl, rotateFapi2: config.tokens.rotate_fapi2_refresh_tokens },
      roles: core.roleAccess,
    };
    // Remembers from this second on (or the previous process's watermark, if later); what could
    // have been used before is refused (src/protocol/replay-window.ts).
    const startSecond = clock.now();
    const replay = new MemoryReplayCache(
      { capacity: bounds.replayCacheCapacity, perClient: bounds.replayPerClient, perPublicClient: bounds.replayPerPublicClient },
      now,
      startSecond,
      new SqliteReplayWatermark(db.sqlite),
    );
    // A value whose iat is the start second is refused (the previous process may have used it in
    // that second): answering nothing before the next second spares honest clients that refusal.
    await afterSecond(clock, startSecond);
    const nonceSecret = config.dpop.require_nonce
      ? await RotatingSecret.open(new SqliteServerSecrets(db.kysely, now), 'dpop_nonce', DPOP_NONCE_SECRET_ROTATION, now)
      : undefined;
    const parStore = new MemoryParStore(bounds.parStoreCapacity, now, bounds.parPerClient);
    const pushed = new PushedRequests(clients, parStore, clock, {
      ttl: config.par.request_uri_ttl,
      required: config.par.required,
      idTokenHints,
    });
    const metrics = config.metrics.enabled ? metricsOf(core, parStore, replay) : undefined;
    const dpop = new DpopVerifier(replay, nonceSecret ? new HmacDpopNonces(now, config.dpop.nonce_ttl, (time) => nonceSecret.secretAt(time)) : undefined, clock, {
      proofMaxAge: config.dpop.proof_max_age,
    });
    const accessTokens = new AccessTokenVerifier(keys, clock, config.issuer, revocations, { clients, users });
    const authorization = new AuthorizationService(
      { clients, users, interactions, consents: new SqliteConsentRepository(db.kysely), codes, passwords, audit, clock, pushed, sessions: sessionRepository, lockout: core.lockout },
      {
        issuer: config.issuer,
        codeTtl: config.tokens.authorization_code_ttl,
        interactionTtl: config.session.interaction_ttl,
        maxPendingInteractions: bounds.interactions,
        maxPendingInteractionsPerClient: bounds.interactionsPerClient,
      },
    );
    // The sessions of users the seed disabled expired then: their clients are told now, in the
    // background (with those of sessions that expired while the server was down), not at the first purge.
    const toldAtStart = await logout.endExpired(clock.now());
    if (toldAtStart > 0) log.info({ sessions: toldAtStart }, 'ended sessions told to their clients');
    const control = buildControlPlane(core);
    // Rebuilt after a control-plane change (a client made or changed with the API or the CLI may
    // bring a custom scope); between the change and the rebuild the previous document serves.
    const buildDiscovery = async () => buildDiscoveryDocument(config.issuer, await clients.list(), SUPPORTED_LANGUAGES, { parRequired: config.par.required });
    let discovery = await buildDiscovery();
    core.changes.onChange(() => {
      buildDiscovery().then(
        (rebuilt) => {
          discovery = rebuilt;
        },
        (error: unknown) => log.error({ err: error }, 'rebuilding the discovery document failed; the previous one serves'),
      );
    });
    const limits = rateLimitsOf(config, metrics?.countRateLimited);
    const deps: HttpDeps = {
      issuer: config.issuer,
      control,
      observability: new Observability({
        activity: new SqliteActivityReader(db.sqlite),
        clients,
        clock,
        nowMs: millisecondsOf(clock),
        flushAudit: () => audit.flush(),
      }),
      metrics,
      changes: core.changes,
      secureCookies: config.issuer.startsWith('https:'),
      sessionTtl: config.session.ttl,
      interactionTtl: config.session.interaction_ttl,
      clock,
      clients,
      users,
      interactions,
      keys,
      sessions,
      logout,
      idTokenHints,
      authorization,
      authenticator: new ClientAuthenticator({
        clients,
        keys: new CachedClientKeys(),
        replay,
        clock,
        issuer: config.issuer,
        tokenEndpoint: config.issuer + PATHS.token,
        rateLimits: limits?.perClient,
      }),
      addressLimits: limits?.perAddress,
      failedClientAuth,
      pushed,
      dpop,
      accessTokens,
      tokenStatus: new TokenStatus({ issuer: config.issuer, accessTokens, refreshTokens: grants.refreshTokens, revocations, keys, audit, clock }),
      grants,
      discovery: () => discovery,
      isReady: () => true,
      readiness: readinessOf(new SqliteReadiness(db.sqlite, core.schemaVersion), keys),
      trustProxy: config.trust_proxy,
    };
    const purge = async () => {
      // One time for the whole run: a session that expired after endExpired read the clock
      // would otherwise be deleted below without its clients being told.
      const now = clock.now();
      // OIDC Back-Channel Logout §2.5: an expired session's clients are told before its row goes.
      const told = await logout.endExpired(now);
      if (told === EXPIRY_NOTICES_PER_PURGE) log.warn({ told }, 'more sessions expired than one purge tells; the others end without a logout token');
      const report = await purgeExpired(db.kysely, now, {
        codeRetention: config.tokens.access_token_ttl,
        auditRetention: config.audit.retention_days * 86400,
        failedAuthRetention: config.audit.failed_auth_retention_days * 86400,
      });
      revocations.forgetExpired(now);
      log.debug({ deleted: report }, 'expired rows purged');
      return report;
    };
    const purgeTimer = setInterval(() => {
      purge().catch((error: unknown) => log.error({ err: error }, 'purging expired rows failed'));
    }, PURGE_INTERVAL_MS);
    purgeTimer.unref();
    const secretsTimer = setInterval(() => {
      nonceSecret?.refresh().catch((error: unknown) => log.error({ err: error }, 'reloading the DPoP nonce secret failed'));
    }, SERVER_SECRETS_REFRESH_MS);
    secretsTimer.unref();
    core.signingKeys.followChanges(core.changes);
    // Publishes each signing key's successor and removes expired keys; the first run was at start.
    // Runs again at the next change of a key's state (a successor that starts signing gets its own
    // successor published within a second), and at least every KEY_MAINTENANCE_INTERVAL_MS.
    const maintainKeys = () => core.signingKeys.maintain();
    let keysTimer: NodeJS.Timeout | undefined;
    let stopped = false;
    const scheduleKeys = () => {
      if (stopped) return;
      keysTimer = setTimeout(() => {
        maintainKeys()
          .catch((error: unknown) => log.error({ err: error }, 'rotating the signing keys failed'))
          .finally(scheduleKeys);
      }, core.signingKeys.nextMaintenanceInMs());
      keysTimer.unref();
    };
    scheduleKeys();
    return {
      deps,
      db,
      purge,
      maintainKeys,
      async close() {
        clearInterval(purgeTimer);
        clearInterval(secretsTimer);
        stopped = true;
        clearTimeout(keysTimer);
        await logoutSender.drain();
        failedClientAuth.flush();
        await audit.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
