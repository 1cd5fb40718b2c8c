/**
 * What GET /observability/tokens costs on a busy log (docs/observability.md): a temporary database
 * migrated as the server migrates it, `--rows` audit events spread over the last day (85 % of them
 * token.issued, as on a provider serving machines) among `--clients` stored clients, plus as many
 * again older than a day; then the reader's call, timed, with the longest time the event loop
 * waited meanwhile. Also the write cost of migration 0018's index (µs per token.issued row).
 *   npx tsx bench/observability-tokens.ts [--rows 1000000] [--clients 2000] [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ACTIVITY_MAX_GRANT_TYPES } from '../src/application/ports/activity-reader.js';
import { openDatabase } from '../src/infrastructure/db/database.js';
import { migrate } from '../src/infrastructure/db/migrate.js';
import { SqliteActivityReader } from '../src/infrastructure/sqlite/activity-reader.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    clients: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '5' },
  },
});
const ROWS = Number(values.rows);
const CLIENTS = Number(values.clients);
const RUNS = Number(values.runs);
const DAY_MS = 86_400_000;
const GRANTS = ['client_credentials', 'client_credentials', 'client_credentials', 'authorization_code', 'refresh_token'];

const dir = mkdtempSync(join(tmpdir(), 'trusty-observability-bench-'));
try {
  const db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
  const sqlite = db.sqlite;
  const now = Date.now();

  const addClient = sqlite.prepare(`INSERT INTO clients (client_id, metadata, created_at, updated_at) VALUES (?, '{}', 0, 0)`);
  sqlite.transaction(() => {
    for (let i = 0; i < CLIENTS; i++) addClient.run(`agent-${i}`);
  })();

  // Rows as SqliteAuditLog writes them: the same columns, a 22-character jti, a user agent.
  const insert = sqlite.prepare('INSERT INTO audit_log (at_ms, event, client_id, user_id, ip, details, actor, user_agent) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)');
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const writeEvents = sqlite.transaction((from: number, to: number, startMs: number) => {
    for (let i = from; i < to; i++) {
      const at = startMs + Math.floor((i / ROWS) * DAY_MS);
      // A few busy clients and a long tail, as agents are.
      const client = `agent-${Math.floor(random() ** 3 * CLIENTS)}`;
      const jti = random().toString(36).slice(2, 13).padEnd(22, '0');
      const r = random();
      if (r < 0.85) insert.run(at, 'token.issued', client, null, '10.0.0.1', JSON.stringify({ grant_type: GRANTS[i % GRANTS.length], jti }), 'agent/1.0');
      else if (r < 0.9) insert.run(at, 'token.revoked', client, null, '10.0.0.1', JSON.stringify({ kind: 'access_token', jti }), 'agent/1.0');
      else if (r < 0.901) insert.run(at, 'refresh_token.reused', client, 'user-1', '10.0.0.1', JSON.stringify({ grant_id: jti, incident: true }), 'agent/1.0');
      else if (r < 0.95) insert.run(at, 'login.success', client, `user-${i % 500}`, '10.0.0.1', null, 'Mozilla/5.0');
      else insert.run(at, 'client.auth_failed', client, null, '10.0.0.1', JSON.stringify({ method: 'client_secret_basic', reason: 'invalid client credentials', endpoint: '/token' }), 'agent/1.0');
    }
  });
  let started = Date.now();
  // The day before (outside both windows), then the last day.
  for (const startMs of [now - 2 * DAY_MS, now - DAY_MS + 1]) {
    for (let i = 0; i < ROWS; i += 50_000) writeEvents(i, Math.min(ROWS, i + 50_000), startMs);
  }
  sqlite.exec('ANALYZE');
  console.log(`${2 * ROWS} audit events (${ROWS} in the last day), ${CLIENTS} clients: written in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const reader = new SqliteActivityReader(sqlite);
  const windows = { dayStartMs: now - DAY_MS, hourStartMs: now - 3_600_000 };
  for (let run = 0; run < RUNS; run++) {
    // The longest stretch the event loop could not run a 1 ms timer.
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const t = performance.now();
      longest = Math.max(longest, t - last);
      last = t;
    }, 1);
    started = performance.now();
    const activity = await reader.tokenActivity(windows);
    const took = performance.now() - started;
    clearInterval(ticker);
    longest = Math.max(longest, performance.now() - last);
    console.log(
      `run ${run + 1}: ${took.toFixed(0)} ms in all, event loop held at most ${longest.toFixed(0)} ms;` +
        ` issued ${activity.totals.issued.day} (day) ${activity.totals.issued.hour} (hour), ${activity.issuedByGrantType.length} grant types (max ${ACTIVITY_MAX_GRANT_TYPES}), ${activity.clients.length} active clients`,
    );
  }

  // Without migration 0018's index the grant type had to be read from every row's details.
  const naive = sqlite.prepare(`SELECT json_extract(details, '$.grant_type'), count(*) FROM audit_log NOT INDEXED WHERE event = 'token.issued' AND at_ms >= ? GROUP BY 1`);
  started = performance.now();
  naive.all(windows.dayStartMs);
  console.log(`the same per-grant counts read from the rows (no index): ${(performance.now() - started).toFixed(0)} ms`);
  await db.close();

  // The index's cost on writes: token.issued rows in batches of 200 (the audit log's flush), with and without it.
  for (const withIndex of [false, true, false, true]) {
    const write = openDatabase(join(dir, `write-${String(withIndex)}-${Math.random()}.db`));
    migrate(write.sqlite);
    if (!withIndex) write.sqlite.exec('DROP INDEX audit_log_issued_grant_at');
    const add = write.sqlite.prepare('INSERT INTO audit_log (at_ms, event, client_id, user_id, ip, details, actor, user_agent) VALUES (?, ?, ?, NULL, ?, ?, NULL, ?)');
    const batch = write.sqlite.transaction((from: number) => {
      for (let i = from; i < from + 200; i++) add.run(now + i, 'token.issued', `agent-${i % 500}`, '10.0.0.1', JSON.stringify({ grant_type: GRANTS[i % GRANTS.length], jti: 'abcdefghijklmnopqrstuv' }), 'agent/1.0');
    });
    const count = 200_000;
    started = performance.now();
    for (let from = 0; from < count; from += 200) batch(from);
    console.log(`write ${withIndex ? 'with   ' : 'without'} the grant index: ${(((performance.now() - started) * 1000) / count).toFixed(1)} µs per token.issued row`);
    await write.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
