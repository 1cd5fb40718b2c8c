import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../application/ports/clock.js';
import type { ControlChanges } from '../../application/ports/control-changes.js';
import type { SigningKeyLifecycle } from '../../application/ports/key-store.js';
import type { RotationPolicy } from '../../domain/signing-key.js';
import type { Config } from '../../config/schema.js';
import type { Database } from '../db/schema.js';
import { KEK_VARIABLE, keyEncryptionKey } from './key-encryption.js';
import { SqliteKeyStore } from './sqlite-key-store.js';
import { SqliteSigningKeys, type ChangeRecorder } from './sqlite-signing-keys.js';

/**
 * Added to a retired key's publication: relying parties' clocks run a little apart, and a logout
 * token (120 s) or a signed introspection response (no exp) is checked as it arrives.
 */
export const REMOVAL_MARGIN_SECONDS = 300;

/** How often the scheduled rotation runs (src/container.ts); prepublication is hours at least. */
export const KEY_MAINTENANCE_INTERVAL_MS = 10 * 60_000;
/** The job runs this long after a key's change of state (whole seconds: the next second has begun). */
const MAINTENANCE_DELAY_MS = 1_000;

/**
 * A retired key stays published as long as anything it signed may be presented: an access token
 * or an ID token until it expires, and an ID token as id_token_hint (RP-Initiated Logout 1.0 §2:
 * accepted expired) for as long as the session it was issued for.
 */
export function rotationPolicy(config: Pick<Config, 'keys' | 'tokens' | 'session'>): RotationPolicy {
  return {
    interval: config.keys.rotation_interval_days * 86_400,
    prepublish: config.keys.prepublish_hours * 3_600,
    retention: Math.max(config.tokens.access_token_ttl, config.tokens.id_token_ttl, config.session.ttl) + REMOVAL_MARGIN_SECONDS,
  };
}

export interface SigningKeys {
  readonly records: SqliteSigningKeys;
  readonly store: SqliteKeyStore;
  /** For the control plane: a rotation returns once this process signs with the new keys. */
  readonly lifecycle: SigningKeyLifecycle;
  /** The scheduled rotation: creates and removes the keys that are due, then reloads the store. */
  maintain(): Promise<void>;
  /** Milliseconds until the next maintenance: at the next change of a key's state (so a key that starts signing gets its published successor at once), at most KEY_MAINTENANCE_INTERVAL_MS. */
  nextMaintenanceInMs(): number;
  /** Reloads the store whenever the control plane changes (the server's; a CLI run needs no reload). */
  followChanges(changes: ControlChanges): void;
}

/**
 * Opens the signing keys: with TRUSTY_KEK set, seals the rows stored in plaintext; creates the
 * keys that are due (the first start creates two per algorithm: the signing key and its
 * published successor); imports them all. Fails with a message naming TRUSTY_KEK when the keys
 * are sealed and it is missing or wrong.
 */
export async function openSigningKeys(
  db: Kysely<Database>,
  config: Pick<Config, 'keys' | 'tokens' | 'session'>,
  changes: ChangeRecorder,
  clock: Clock,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SigningKeys> {
  const records = new SqliteSigningKeys(db, rotationPolicy(config), keyEncryptionKey(env[KEK_VARIABLE]), changes);
  const sealed = await records.sealPlaintext();
  if (sealed > 0) log.info({ keys: sealed }, `signing keys encrypted with ${KEK_VARIABLE}`);
  const due = async () => {
    const { created, removed } = await records.maintain(clock.now());
    // kids and dates only: public.
    if (created.length > 0) log.info({ keys: created.map(({ kid, alg, activatesAt }) => ({ kid, alg, activates_at: new Date(activatesAt * 1000).toISOString() })) }, 'signing keys created');
    if (removed.length > 0) log.info({ kids: removed }, 'retired signing keys removed');
  };
  await due();
  const store = await SqliteKeyStore.open(records, clock);
  return {
    records,
    store,
    lifecycle: {
      policy: records.policy,
      list: () => records.list(),
      async rotate(algs, now, force) {
        const rotations = await records.rotate(algs, now, force);
        await store.reload();
        return rotations;
      },
    },
    nextMaintenanceInMs() {
      const next = store.nextChangeAt();
      const ms = Number.isFinite(next) ? (next - clock.now()) * 1000 + MAINTENANCE_DELAY_MS : KEY_MAINTENANCE_INTERVAL_MS;
      return Math.min(KEY_MAINTENANCE_INTERVAL_MS, Math.max(MAINTENANCE_DELAY_MS, ms));
    },
    async maintain() {
      await due();
      // Also picks up what another process wrote, should no request have polled since (the JWKS
      // fast path does not): rows read, nothing imported again.
      await store.reload();
    },
    followChanges(changes) {
      // A rotation here, by the CLI or by another server: published and later signing keys.
      changes.onChange(() => {
        store.reload().catch((error: unknown) => log.error({ err: error }, 'reloading the signing keys failed; the previous ones serve'));
      });
    },
  };
}
