import type { Logger } from 'pino';
import { AuthorizationService } from './application/authorize/authorization-service.js';
import type { GrantDeps } from './application/grants/grant.js';
import { systemClock, type Clock } from './application/ports/clock.js';
import { AccessTokenVerifier } from './application/services/access-token-verifier.js';
import { ClientAuthenticator } from './application/services/client-authenticator.js';
import { LogoutService } from './application/services/logout-service.js';
import { TokenStatus } from './application/services/token-status.js';
import { HttpLogoutSender } from './infrastructure/http-logout-sender.js';
import { buildDiscoveryDocument, PATHS } from './application/services/discovery.js';
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
import { CachedClientKeys } from './infrastructure/keys/client-jwks.js';
import { SqliteKeyStore } from './infrastructure/keys/sqlite-key-store.js';
import { SqliteAuditLog } from './infrastructure/sqlite/audit-log.js';
import { SqliteAuthorizationCodeRepository } from './infrastructure/sqlite/authorization-code-repository.js';
import { SqliteClientRepository } from './infrastructure/sqlite/client-repository.js';
import { SqliteConsentRepository } from './infrastructure/sqlite/consent-repository.js';
import { SqliteInteractionRepository } from './infrastructure/sqlite/interaction-repository.js';
import { purgeExpired, type PurgeReport } from './infrastructure/sqlite/purge.js';
import { SqliteRefreshTokenRepository } from './infrastructure/sqlite/refresh-token-repository.js';
import { SqliteSessionRepository } from './infrastructure/sqlite/session-repository.js';
import { SqliteTokenRevocations } from './infrastructure/sqlite/token-revocations.js';
import { SqliteUserRepository } from './infrastructure/sqlite/user-repository.js';

/**
 * Live single-use values remembered (client-assertion and DPoP jti), about 80 bytes each: at most
 * 40 MB, enough for 1 600 private_key_jwt or DPoP requests per second held for 300 s each.
 */
const REPLAY_CACHE_CAPACITY = 500_000;
/** How often expired codes, sessions, tokens and old audit events are deleted. */
const PURGE_INTERVAL_MS = 10 * 60_000;
/** Pushed requests waiting for the browser. */
const PAR_STORE_CAPACITY = 20_000;

export interface Trusty {
  readonly deps: HttpDeps;
  readonly db: Db;
  /** Deletes expired rows now (it also runs every PURGE_INTERVAL_MS). */
  purge(): Promise<PurgeReport>;
  /** Flushes the audit log and closes the database. */
  close(): Promise<void>;
}

/** The composition root: opens storage, migrates, loads keys, seeds config, wires services. */
export async function createTrusty(config: LoadedConfig, log: Logger, clock: Clock = systemClock): Promise<Trusty> {
  const now = () => clock.now();
  const db = openDatabase(config.database.path);
  try {
    const migrations = migrate(db.sqlite);
    if (migrations.applied.length > 0) log.info({ applied: migrations.applied }, 'database migrated');

    const { store: keys, created } = await SqliteKeyStore.open(db.kysely, now);
    if (created.length > 0) log.info({ algorithms: created }, 'signing keys created');

    const clients = new SqliteClientRepository(db.kysely, now);
    const users = new SqliteUserRepository(db.kysely, now);
    const passwords = new BcryptPasswordHasher(config.passwords.bcrypt_cost, passwordHashingThreads(poolSize(process.env.UV_THREADPOOL_SIZE)));
    const report = await seed(
      { clients: config.clients.map(clientFromConfig), users: config.users.map((u) => ({ username: u.username, password: u.password, claims: u.claims })) },
      { clients, users, passwords },
    );
    log.info(report, 'configured clients and users seeded');
    for (const client of config.clients) {
      if (client.client_secret !== undefined && client.client_secret.length < 32) {
        log.warn({ client_id: client.client_id }, 'client_secret is shorter than 32 characters: use a long random secret');
      }
    }

    // Milliseconds for ordering, shifted by whatever offset the injected clock has (tests move it).
    const audit = new SqliteAuditLog(db.sqlite, log, () => Date.now() + (clock.now() - Math.floor(Date.now() / 1000)) * 1000);
    const interactions = new SqliteInteractionRepository(db.kysely, now);
    const codes = new SqliteAuthorizationCodeRepository(db.kysely);
    const tokens = new TokenIssuer(keys, clock, {
      issuer: config.issuer,
      accessTokenTtl: config.tokens.access_token_ttl,
      idTokenTtl: config.tokens.id_token_ttl,
    });
    const revocations = await SqliteTokenRevocations.open(db.kysely, clock.now());
    const grants: GrantDeps = {
      codes,
      refreshTokens: new SqliteRefreshTokenRepository(db.kysely),
      revocations,
      users,
      tokens,
      audit,
      clock,
      refresh: { ttl: config.tokens.refresh_token_ttl, idleTtl: config.tokens.refresh_token_idle_ttl, rotateFapi2: config.tokens.rotate_fapi2_refresh_tokens },
    };
    const sessionRepository = new SqliteSessionRepository(db.kysely);
    const replay = new MemoryReplayCache(REPLAY_CACHE_CAPACITY, now);
    const pushed = new PushedRequests(clients, new MemoryParStore(PAR_STORE_CAPACITY, now), clock, {
      ttl: config.par.request_uri_ttl,
      required: config.par.required,
    });
    const dpop = new DpopVerifier(replay, config.dpop.require_nonce ? new HmacDpopNonces(now, config.dpop.nonce_ttl) : undefined, clock, {
      proofMaxAge: config.dpop.proof_max_age,
    });
    const sessions = new SessionService(sessionRepository, clock, config.session.ttl);
    const logoutSender = new HttpLogoutSender(log);
    const accessTokens = new AccessTokenVerifier(keys, clock, config.issuer, revocations);
    const authorization = new AuthorizationService(
      { clients, users, interactions, consents: new SqliteConsentRepository(db.kysely), codes, passwords, audit, clock, pushed, sessions: sessionRepository },
      { issuer: config.issuer, codeTtl: config.tokens.authorization_code_ttl, interactionTtl: config.session.interaction_ttl },
    );
    const deps: HttpDeps = {
      issuer: config.issuer,
      secureCookies: config.issuer.startsWith('https:'),
      sessionTtl: config.session.ttl,
      interactionTtl: config.session.interaction_ttl,
      clock,
      clients,
      users,
      interactions,
      keys,
      sessions,
      logout: new LogoutService({ issuer: config.issuer, clients, keys, sessions, sender: logoutSender, audit, clock }),
      authorization,
      authenticator: new ClientAuthenticator({
        clients,
        keys: new CachedClientKeys(),
        replay,
        clock,
        issuer: config.issuer,
        tokenEndpoint: config.issuer + PATHS.token,
      }),
      pushed,
      dpop,
      accessTokens,
      tokenStatus: new TokenStatus({ issuer: config.issuer, accessTokens, refreshTokens: grants.refreshTokens, revocations, keys, audit, clock }),
      grants,
      discovery: buildDiscoveryDocument(config.issuer, await clients.list(), SUPPORTED_LANGUAGES, { parRequired: config.par.required }),
      isReady: () => true,
    };
    const purge = async () => {
      const now = clock.now();
      const report = await purgeExpired(db.kysely, now, { codeRetention: config.tokens.access_token_ttl, auditRetention: config.audit.retention_days * 86400 });
      revocations.forgetExpired(now);
      log.debug({ deleted: report }, 'expired rows purged');
      return report;
    };
    const purgeTimer = setInterval(() => {
      purge().catch((error: unknown) => log.error({ err: error }, 'purging expired rows failed'));
    }, PURGE_INTERVAL_MS);
    purgeTimer.unref();
    return {
      deps,
      db,
      purge,
      async close() {
        clearInterval(purgeTimer);
        await logoutSender.drain();
        await audit.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
