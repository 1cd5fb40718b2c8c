import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../test/unit/fixtures.js';
import { openDatabase, type Db } from './db/database.js';
import { migrate } from './db/migrate.js';
import { RotatingSecret } from './rotating-secret.js';
import { SqliteServerSecrets } from './sqlite/server-secrets.js';

const ROTATION = 1000;

let dir: string;
let db: Db;
let other: Db;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-secrets-'));
  db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
  other = openDatabase(join(dir, 'trusty.db')); // a second process on the same file
});

afterEach(async () => {
  await other.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = () => db.sqlite.prepare('SELECT purpose, epoch, length(secret) AS length FROM server_secrets ORDER BY epoch').all();

describe('RotatingSecret over SqliteServerSecrets', () => {
  it('creates the current and the next epoch once; processes opening together agree', async () => {
    const c = manualClock(5 * ROTATION + 10);
    const [a, b] = await Promise.all([
      RotatingSecret.open(new SqliteServerSecrets(db.kysely, c.fn), 'dpop_nonce', ROTATION, c.fn),
      RotatingSecret.open(new SqliteServerSecrets(other.kysely, c.fn), 'dpop_nonce', ROTATION, c.fn),
    ]);
    expect(rows()).toEqual([
      { purpose: 'dpop_nonce', epoch: 5, length: 43 },
      { purpose: 'dpop_nonce', epoch: 6, length: 43 },
    ]);
    expect(a.secretAt(c.now)).toEqual(b.secretAt(c.now));
    expect(a.secretAt(c.now)).toHaveLength(32);
    expect(a.secretAt(6 * ROTATION)).toEqual(b.secretAt(6 * ROTATION));
    expect(a.secretAt(6 * ROTATION)).not.toEqual(a.secretAt(c.now));
  });

  it('gives a process started later (a restart) the same secrets, and the previous epoch after a rotation', async () => {
    const c = manualClock(5 * ROTATION + 10);
    const first = await RotatingSecret.open(new SqliteServerSecrets(db.kysely, c.fn), 'dpop_nonce', ROTATION, c.fn);
    const epoch5 = first.secretAt(c.now);
    c.now = 6 * ROTATION + 10;
    const restarted = await RotatingSecret.open(new SqliteServerSecrets(other.kysely, c.fn), 'dpop_nonce', ROTATION, c.fn);
    expect(restarted.secretAt(5 * ROTATION)).toEqual(epoch5);
    expect(restarted.secretAt(c.now)).toEqual(first.secretAt(c.now));
    expect(rows().map((row) => (row as { epoch: number }).epoch)).toEqual([5, 6, 7]);
  });

  it('keeps purposes apart', async () => {
    const c = manualClock(5 * ROTATION);
    const store = new SqliteServerSecrets(db.kysely, c.fn);
    const nonce = await RotatingSecret.open(store, 'dpop_nonce', ROTATION, c.fn);
    const otherPurpose = await RotatingSecret.open(store, 'other', ROTATION, c.fn);
    expect(nonce.secretAt(c.now)).not.toEqual(otherPurpose.secretAt(c.now));
  });
});
