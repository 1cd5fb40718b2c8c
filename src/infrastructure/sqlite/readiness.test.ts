import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../db/migrate.js';
import { SqliteReadiness } from './readiness.js';

describe('SqliteReadiness (/health/ready)', () => {
  it('is ok on a database migrated by this build', () => {
    const sqlite = new Database(':memory:');
    const { current } = migrate(sqlite);
    expect(new SqliteReadiness(sqlite, current).check()).toEqual({ database: 'ok', migrations: 'ok' });
  });

  it('reports a schema another build migrated further, or not as far', () => {
    const sqlite = new Database(':memory:');
    const { current } = migrate(sqlite);
    expect(new SqliteReadiness(sqlite, current - 1).check()).toEqual({ database: 'ok', migrations: `schema version ${current}, this build expects ${current - 1}` });
    expect(new SqliteReadiness(sqlite, current + 1).check()).toEqual({ database: 'ok', migrations: `schema version ${current}, this build expects ${current + 1}` });
  });

  it('reports a database that no longer answers, without throwing', () => {
    const sqlite = new Database(':memory:');
    const { current } = migrate(sqlite);
    const readiness = new SqliteReadiness(sqlite, current);
    sqlite.close();
    expect(readiness.check()).toEqual({ database: 'unreachable: The database connection is not open', migrations: 'unknown' });
  });
});
