import { calculateJwkThumbprint, importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import type { Clock } from '../../application/ports/clock.js';
import type { KeyStore, SigningKey } from '../../application/ports/key-store.js';
import { SIGNING_ALGS, type SigningAlg } from '../../domain/client.js';
import { nextChange, stateAt, timelines, type KeyTimeline } from '../../domain/signing-key.js';
import type { SqliteSigningKeys, StoredSigningKey } from './sqlite-signing-keys.js';

interface LoadedKey extends SigningKey {
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** What the cache serves until the clock reaches `until`. */
interface Current {
  readonly until: number;
  readonly active: ReadonlyMap<SigningAlg, LoadedKey>;
  readonly published: ReadonlyMap<string, LoadedKey>;
  readonly jwks: JSONWebKeySet;
}

const NOTHING: Current = { until: -Infinity, active: new Map(), published: new Map(), jwks: { keys: [] } };

/**
 * The signing keys in memory. Every key is imported once, when a load first sees it; what signs
 * and what is published is worked out again only when the clock reaches the next activation,
 * retirement or removal (one comparison per call otherwise). A reload (after a rotation, here or
 * in another process) runs in the background: until it is done the previous keys serve, which is
 * safe because a key that activates has been published before.
 */
export class SqliteKeyStore implements KeyStore {
  private loaded = new Map<string, LoadedKey>();
  private schedule: KeyTimeline[] = [];
  private current = NOTHING;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly records: SqliteSigningKeys,
    private readonly clock: Clock,
  ) {}

  static async open(records: SqliteSigningKeys, clock: Clock): Promise<SqliteKeyStore> {
    const store = new SqliteKeyStore(records, clock);
    await store.reload();
    return store;
  }

  signingKey(alg: SigningAlg): SigningKey {
    const key = this.now().active.get(alg);
    if (key === undefined) throw new Error(`no active signing key for ${alg}`);
    return key;
  }

  verificationKey(kid: string): { alg: SigningAlg; key: CryptoKey } | undefined {
    const key = this.now().published.get(kid);
    return key && { alg: key.alg, key: key.publicKey };
  }

  jwks(): JSONWebKeySet {
    return this.now().jwks;
  }

  /** The next second at which a key changes state (Infinity if none will): the maintenance job runs then. */
  nextChangeAt(): number {
    return this.now().until;
  }

  /** Reads the keys again (one load at a time, in call order); imports only keys not seen before. */
  reload(): Promise<void> {
    const done = this.queue.then(() => this.load());
    this.queue = done.catch(() => undefined);
    return done;
  }

  private now(): Current {
    const now = this.clock.now();
    if (now >= this.current.until) this.current = derive(this.schedule, this.loaded, now, this.current.jwks);
    return this.current;
  }

  private async load(): Promise<void> {
    const rows = await this.records.rows();
    const loaded = new Map<string, LoadedKey>();
    for (const row of rows) loaded.set(row.kid, this.loaded.get(row.kid) ?? (await this.importKey(row)));
    // Swapped at once, after every await: a call in between sees the previous keys.
    this.loaded = loaded;
    this.schedule = timelines(rows, this.records.policy.retention);
    this.current = derive(this.schedule, this.loaded, this.clock.now(), this.current.jwks);
  }

  private async importKey(row: StoredSigningKey): Promise<LoadedKey> {
    const privateJwk = await this.records.privateJwk(row);
    // RFC 7638: the kid is the public key's thumbprint; a row whose halves disagree is refused.
    if ((await calculateJwkThumbprint(row.publicJwk)) !== row.kid || (await calculateJwkThumbprint(privateJwk)) !== row.kid) {
      throw new Error(`signing key ${row.kid}: its public and private JWKs do not match its kid`);
    }
    return {
      kid: row.kid,
      alg: row.alg,
      privateKey: (await importJWK(privateJwk, row.alg)) as CryptoKey,
      publicKey: (await importJWK(row.publicJwk, row.alg)) as CryptoKey,
      publicJwk: row.publicJwk,
    };
  }
}

/**
 * The active key per algorithm and the published set at `now`, valid until the next change.
 * The previous JWKS object is kept when it lists the same keys in the same order: the JWKS
 * document (src/http/routes/jwks.ts) is serialised again only when this object changes.
 */
function derive(schedule: readonly KeyTimeline[], loaded: ReadonlyMap<string, LoadedKey>, now: number, previous: JSONWebKeySet): Current {
  const active = new Map<SigningAlg, LoadedKey>();
  const published = new Map<string, LoadedKey>();
  const byState = { active: [] as LoadedKey[], prepublished: [] as LoadedKey[], retired: [] as LoadedKey[] };
  for (const timeline of schedule) {
    const key = loaded.get(timeline.kid);
    const state = stateAt(timeline, now);
    if (key === undefined || state === 'removed') continue;
    if (state === 'active') active.set(key.alg, key);
    published.set(key.kid, key);
    byState[state].push(key);
  }
  // Active keys first, in SIGNING_ALGS order: a relying party that ignores kid finds the signing key.
  const order = (a: LoadedKey, b: LoadedKey) => SIGNING_ALGS.indexOf(a.alg) - SIGNING_ALGS.indexOf(b.alg);
  const listed = [...byState.active.sort(order), ...byState.prepublished.sort(order), ...byState.retired.sort(order)];
  const same = listed.length === previous.keys.length && listed.every((key, i) => key.kid === previous.keys[i]!.kid);
  const jwks = same ? previous : { keys: listed.map((key) => ({ ...key.publicJwk })) };
  return { until: nextChange(schedule, now), active, published, jwks };
}
