import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { KeyStore, SigningKey } from '../../application/ports/key-store.js';
import { SIGNING_ALGS, type SigningAlg } from '../../domain/client.js';
import type { Database } from '../db/schema.js';

interface LoadedKey extends SigningKey {
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

/**
 * Signing keys persisted in SQLite: one active key per algorithm, created on first start
 * (ES256 is the default; PS256, RS256 and EdDSA serve clients that ask for them).
 * Private keys are imported once at start; every later use reads the cache.
 */
export class SqliteKeyStore implements KeyStore {
  private constructor(
    private readonly byAlg: ReadonlyMap<SigningAlg, LoadedKey>,
    private readonly byKid: ReadonlyMap<string, LoadedKey>,
    private readonly publicJwks: JSONWebKeySet,
  ) {}

  static async open(db: Kysely<Database>, now: () => number): Promise<{ store: SqliteKeyStore; created: SigningAlg[] }> {
    const created: SigningAlg[] = [];
    for (const alg of SIGNING_ALGS) {
      const existing = await db.selectFrom('signing_keys').select('kid').where('alg', '=', alg).where('retired_at', 'is', null).executeTakeFirst();
      if (existing) continue;
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
      const publicJwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      const privateJwk = await exportJWK(privateKey);
      await db
        .insertInto('signing_keys')
        .values({
          kid,
          alg,
          private_jwk: JSON.stringify({ ...privateJwk, kid, alg }),
          public_jwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
          created_at: now(),
          retired_at: null,
        })
        .onConflict((oc) => oc.doNothing()) // another process created it first
        .execute();
      created.push(alg);
    }

    const rows = await db.selectFrom('signing_keys').selectAll().where('retired_at', 'is', null).orderBy('created_at', 'asc').execute();
    const byAlg = new Map<SigningAlg, LoadedKey>();
    const byKid = new Map<string, LoadedKey>();
    for (const row of rows) {
      const alg = row.alg as SigningAlg;
      const publicJwk = JSON.parse(row.public_jwk) as JWK;
      const key: LoadedKey = {
        kid: row.kid,
        alg,
        privateKey: (await importJWK(JSON.parse(row.private_jwk) as JWK, alg)) as CryptoKey,
        publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
        publicJwk,
      };
      byAlg.set(alg, key); // the newest key of an algorithm signs
      byKid.set(row.kid, key);
    }
    const jwks: JSONWebKeySet = { keys: [...byKid.values()].map((k) => ({ ...k.publicJwk })) };
    return { store: new SqliteKeyStore(byAlg, byKid, jwks), created };
  }

  signingKey(alg: SigningAlg): SigningKey {
    const key = this.byAlg.get(alg);
    if (key === undefined) throw new Error(`no active signing key for ${alg}`);
    return key;
  }

  verificationKey(kid: string): { alg: SigningAlg; key: CryptoKey } | undefined {
    const key = this.byKid.get(kid);
    return key && { alg: key.alg, key: key.publicKey };
  }

  jwks(): JSONWebKeySet {
    return this.publicJwks;
  }
}
