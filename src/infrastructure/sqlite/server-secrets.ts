import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ServerSecrets } from '../../application/ports/server-secrets.js';
import type { Database } from '../db/schema.js';

/** Bytes of a new secret (HMAC-SHA-256 key size). */
const SECRET_BYTES = 32;

/** ServerSecrets in the server_secrets table (migration 0005); the secret is stored base64url. */
export class SqliteServerSecrets implements ServerSecrets {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number,
  ) {}

  async load(purpose: string, epochs: readonly number[], create: readonly number[]): Promise<ReadonlyMap<number, Buffer>> {
    if (create.length > 0) {
      const createdAt = this.clock();
      const rows = create.map((epoch) => ({ purpose, epoch, secret: randomBytes(SECRET_BYTES).toString('base64url'), created_at: createdAt }));
      // The first insert wins; a process that lost the race reads the winner's secret below.
      await this.db.insertInto('server_secrets').values(rows).onConflict((oc) => oc.doNothing()).execute();
    }
    const wanted = [...new Set([...epochs, ...create])];
    const found = await this.db.selectFrom('server_secrets').select(['epoch', 'secret']).where('purpose', '=', purpose).where('epoch', 'in', wanted).execute();
    return new Map(found.map((row) => [row.epoch, Buffer.from(row.secret, 'base64url')]));
  }
}
