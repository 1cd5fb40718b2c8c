import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { KeyRotation, SigningKeyLifecycle } from '../../application/ports/key-store.js';
import { SIGNING_ALGS, type SigningAlg } from '../../domain/client.js';
import { removedKeys, rotationPlan, rotationRefusal, RotationRefused, scheduledKeys, timelines, type KeyTimeline, type RotationPolicy, type ScheduledKey } from '../../domain/signing-key.js';
import type { Database } from '../db/schema.js';
import { immediate } from '../sqlite/control-write.js';
import { isSealed, KEK_VARIABLE, KeyEncryptionError, openPrivateJwk, sealPrivateJwk } from './key-encryption.js';

/** A stored key: its schedule, public JWK and private JWK as stored (JSON, or sealed). */
export interface StoredSigningKey extends ScheduledKey {
  readonly publicJwk: JWK;
  readonly storedPrivateJwk: string;
}

/** Records a control-plane change inside the writing transaction (src/infrastructure/sqlite/control-version.ts). */
export interface ChangeRecorder {
  record(trx: Kysely<Database>): Promise<void>;
}

/** What one write does: keys to create (alg, activation), keys to activate earlier, rows to delete. */
interface Changes {
  readonly create: ReadonlyArray<{ readonly alg: SigningAlg; readonly activatesAt: number }>;
  readonly promote: ReadonlyArray<{ readonly kid: string; readonly activatesAt: number }>;
  readonly remove: readonly string[];
}

interface NewKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly activatesAt: number;
  readonly publicJwk: string;
  readonly privateJwk: string;
}

/** Another process changed the keys between our read and our write transaction: plan again. */
class PlanChanged extends Error {}
const ATTEMPTS = 3;

/**
 * The signing_keys rows. Every write runs in one IMMEDIATE transaction that reads the keys again
 * and plans again before it writes (the unique (alg, activates_at) index backs it): several
 * processes on one database rotate once, whichever gets the write lock first. New key pairs are
 * generated, and sealed, before that transaction: nothing slow holds the lock.
 */
export class SqliteSigningKeys implements SigningKeyLifecycle {
  constructor(
    private readonly db: Kysely<Database>,
    readonly policy: RotationPolicy,
    private readonly kek: Uint8Array | undefined,
    private readonly changes: ChangeRecorder,
  ) {}

  async list(): Promise<KeyTimeline[]> {
    return timelines(await this.rows(), this.policy.retention);
  }

  async rows(db: Kysely<Database> = this.db): Promise<StoredSigningKey[]> {
    const rows = await db.selectFrom('signing_keys').select(['kid', 'alg', 'created_at', 'activates_at', 'public_jwk', 'private_jwk']).execute();
    return rows.map((row) => ({
      kid: row.kid,
      alg: row.alg as SigningAlg,
      createdAt: row.created_at,
      activatesAt: row.activates_at,
      publicJwk: JSON.parse(row.public_jwk) as JWK,
      storedPrivateJwk: row.private_jwk,
    }));
  }

  /** The private JWK of a stored key (opened with TRUSTY_KEK when sealed). */
  async privateJwk(key: StoredSigningKey): Promise<JWK> {
    return openPrivateJwk(key.storedPrivateJwk, key.kid, this.kek);
  }

  /**
   * The scheduled rotation (at start and every few minutes): for an algorithm with no key, a
   * first key and its successor (one pass, one transaction); for a signing key without a
   * successor (its predecessor just retired), a successor published at once; removed keys
   * deleted. Returns what it created and deleted.
   */
  async maintain(now: number): Promise<{ created: NewKey[]; removed: string[] }> {
    return this.write(now, (keys) => ({
      create: SIGNING_ALGS.flatMap((alg) => scheduledKeys(keys, alg, now, this.policy).map((activatesAt) => ({ alg, activatesAt }))),
      promote: [],
      remove: removedKeys(keys, now),
    }));
  }

  async rotate(algs: readonly SigningAlg[], now: number, force = false): Promise<KeyRotation[]> {
    let plans: ReturnType<typeof rotationPlan>[] = [];
    const { created } = await this.write(now, (keys) => {
      // Checked again inside the write transaction (the plan is re-made there): of two racing
      // rotations, the second is refused instead of activating a successor published just now.
      const refusals = algs.flatMap((alg) => rotationRefusal(keys, alg, now, force) ?? []);
      if (refusals.length > 0) throw new RotationRefused(refusals.join('; '));
      plans = algs.map((alg) => rotationPlan(keys, alg, now, this.policy));
      return {
        create: plans.flatMap((plan) => plan.create.map((activatesAt) => ({ alg: plan.alg, activatesAt }))),
        promote: plans.flatMap((plan) => (plan.promote !== undefined ? [{ kid: plan.promote, activatesAt: plan.activatesAt }] : [])),
        remove: removedKeys(keys, now),
      };
    });
    const createdAt = (alg: SigningAlg, at: number) => created.find((key) => key.alg === alg && key.activatesAt === at)?.kid;
    return plans.map((plan) => ({
      alg: plan.alg,
      retired: plan.retired,
      active: plan.promote ?? createdAt(plan.alg, plan.activatesAt)!,
      activatesAt: plan.activatesAt,
      next: plan.next ?? createdAt(plan.alg, plan.activatesAt + this.policy.interval),
    }));
  }

  /** With TRUSTY_KEK set: seals the rows written without it. Returns how many. */
  async sealPlaintext(): Promise<number> {
    const kek = this.kek;
    if (kek === undefined) return 0;
    const rows = await this.rows();
    const plaintext = rows.filter((row) => !isSealed(row.storedPrivateJwk));
    if (plaintext.length === 0) return 0;
    await this.assertKekOpens(rows);
    const sealed = await Promise.all(plaintext.map(async (row) => ({ row, sealed: await sealPrivateJwk(await this.privateJwk(row), row.kid, kek) })));
    return immediate(this.db, async (trx) => {
      let count = 0;
      for (const { row, sealed: value } of sealed) {
        // Compare-and-set: another process may have sealed it meanwhile.
        const result = await trx.updateTable('signing_keys').set({ private_jwk: value }).where('kid', '=', row.kid).where('private_jwk', '=', row.storedPrivateJwk).executeTakeFirst();
        count += Number(result.numUpdatedRows);
      }
      return count;
    });
  }

  private async write(now: number, plan: (keys: KeyTimeline[]) => Changes): Promise<{ created: NewKey[]; removed: string[] }> {
    for (let attempt = 1; ; attempt++) {
      const rows = await this.rows();
      const changes = plan(timelines(rows, this.policy.retention));
      if (changes.create.length === 0 && changes.promote.length === 0 && changes.remove.length === 0) return { created: [], removed: [] };
      if (changes.create.length > 0) await this.assertKekOpens(rows);
      const created = await Promise.all(changes.create.map(({ alg, activatesAt }) => this.generate(alg, activatesAt)));
      try {
        return await immediate(this.db, async (trx) => {
          const again = plan(timelines(await this.rows(trx), this.policy.retention));
          if (JSON.stringify(again) !== JSON.stringify(changes)) throw new PlanChanged();
          for (const { kid, activatesAt } of changes.promote) {
            await trx.updateTable('signing_keys').set({ activates_at: activatesAt }).where('kid', '=', kid).execute();
          }
          for (const key of created) {
            await trx
              .insertInto('signing_keys')
              .values({ kid: key.kid, alg: key.alg, private_jwk: key.privateJwk, public_jwk: key.publicJwk, created_at: now, activates_at: key.activatesAt })
              .execute();
          }
          if (changes.remove.length > 0) await trx.deleteFrom('signing_keys').where('kid', 'in', changes.remove).execute();
          // Other processes reload their keys: they must publish, and later sign with, these.
          await this.changes.record(trx);
          return { created, removed: [...changes.remove] };
        });
      } catch (error) {
        if (!(error instanceof PlanChanged) || attempt === ATTEMPTS) throw error;
      }
    }
  }

  /** A new key pair; its kid is the RFC 7638 thumbprint of its public key. */
  private async generate(alg: SigningAlg, activatesAt: number): Promise<NewKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
    return {
      kid,
      alg,
      activatesAt,
      publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
      privateJwk: this.kek === undefined ? JSON.stringify(privateJwk) : await sealPrivateJwk(privateJwk, kid, this.kek),
    };
  }

  /**
   * Before writing a key: when keys are sealed, TRUSTY_KEK must be set and be theirs, or the new
   * key would be stored in plaintext, or sealed with a key the server cannot open.
   */
  private async assertKekOpens(rows: readonly StoredSigningKey[]): Promise<void> {
    const sealed = rows.find((row) => isSealed(row.storedPrivateJwk));
    if (sealed === undefined) return;
    if (this.kek === undefined) throw new KeyEncryptionError(`the signing keys are encrypted: set ${KEK_VARIABLE} to the key-encryption key they were written with`);
    await this.privateJwk(sealed);
  }
}

