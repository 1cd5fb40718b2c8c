import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type SQLite from 'better-sqlite3';
import { projectRoot } from '../project-root.js';

const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface MigrationResult {
  readonly applied: string[];
  readonly current: number;
}

/**
 * Applies migrations/NNNN_name.sql in order, each in its own IMMEDIATE transaction (so two
 * processes starting at once do not both apply it), and records it in the migrations table.
 * Idempotent: applied versions are skipped.
 */
export function migrate(sqlite: SQLite.Database, dir = join(projectRoot, 'migrations'), now = () => Math.floor(Date.now() / 1000)): MigrationResult {
  sqlite.exec(`CREATE TABLE IF NOT EXISTS migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const files = readdirSync(dir)
    .map((file) => ({ file, match: MIGRATION_FILE.exec(file) }))
    .filter((m): m is { file: string; match: RegExpExecArray } => m.match !== null)
    .map(({ file, match }) => ({ file, version: Number(match[1]), name: match[2]! }))
    .sort((a, b) => a.version - b.version);

  const isApplied = sqlite.prepare<[number], { version: number }>('SELECT version FROM migrations WHERE version = ?');
  const record = sqlite.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: string[] = [];
  for (const migration of files) {
    const apply = sqlite.transaction(() => {
      if (isApplied.get(migration.version)) return false;
      sqlite.exec(readFileSync(join(dir, migration.file), 'utf8'));
      record.run(migration.version, migration.name, now());
      return true;
    });
    if (apply.immediate()) applied.push(migration.file);
  }
  const current = files.at(-1)?.version ?? 0;
  return { applied, current };
}
