import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Session } from '../../domain/session.js';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { SqliteSessionRepository } from './session-repository.js';

let dir: string;
let db: Db;
let sessions: SqliteSessionRepository;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trusty-sessions-'));
  db = openDatabase(join(dir, 'trusty.db'));
  migrate(db.sqlite);
  sessions = new SqliteSessionRepository(db.kysely);
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const session = (name: string, expiresAt: number): Session => ({ idDigest: `digest-${name}`, userId: 'alice', authTime: 100, expiresAt, sid: `sid-${name}` });

describe('SqliteSessionRepository: every session ends once (OIDC Back-Channel Logout §2.5)', () => {
  it('returns the session to the one end that ended it, and nothing to a second', async () => {
    const s = session('a', 1000);
    await sessions.create(s);
    expect(await sessions.end(s.idDigest, 200)).toEqual(s);
    expect(await sessions.end(s.idDigest, 201)).toBeUndefined();
    expect(await sessions.end('digest-unknown', 202)).toBeUndefined();
    expect(await sessions.find(s.idDigest)).toBeUndefined();
  });

  it('ends the expired sessions never ended that logged in to a client, with their clients, at most `limit`', async () => {
    for (const [name, expiresAt] of [['old', 500], ['older', 400], ['live', 2000], ['ended', 500], ['clientless', 500]] as const) {
      await sessions.create(session(name, expiresAt));
    }
    for (const name of ['old', 'older', 'live', 'ended']) await sessions.addClient(`sid-${name}`, 'rp');
    await sessions.addClient('sid-old', 'rp2');
    await sessions.end('digest-ended', 300);

    const first = await sessions.endExpired(1000, 1);
    expect(first).toEqual([{ session: session('older', 400), clientIds: ['rp'] }]); // the oldest first
    const rest = await sessions.endExpired(1000, 10);
    expect(rest.map(({ session: s, clientIds }) => [s.sid, [...clientIds].sort()])).toEqual([['sid-old', ['rp', 'rp2']]]);
    expect(await sessions.endExpired(1000, 10)).toEqual([]);
    // Ended by endExpired: a later end sends nothing either.
    expect(await sessions.end('digest-old', 1001)).toBeUndefined();
    expect(await sessions.find('digest-live')).toBeDefined();
  });

  it('lists a user\'s live sessions newest first, in pages, and expires one by sid once (not ended: endExpired tells its clients)', async () => {
    const at = (name: string, authTime: number, expiresAt: number, userId = 'alice'): Session => ({ ...session(name, expiresAt), authTime, userId });
    for (const s of [at('a', 100, 1000), at('b', 300, 1000), at('c', 200, 1000), at('old', 50, 150), at('bob', 400, 1000, 'bob')]) await sessions.create(s);
    await sessions.end('digest-c', 160);
    await sessions.addClient('sid-a', 'rp2');
    await sessions.addClient('sid-a', 'rp');
    const live = await sessions.listLive('alice', 160, 10);
    expect(live.map(({ session: s, clientIds }) => [s.sid, clientIds])).toEqual([['sid-b', []], ['sid-a', ['rp', 'rp2']]]);
    expect((await sessions.listLive('alice', 160, 1, { authTime: 300, sid: 'sid-b' })).map(({ session: s }) => s.sid)).toEqual(['sid-a']);

    expect(await sessions.expire('sid-a', 170)).toBe('alice');
    expect(await sessions.expire('sid-a', 171)).toBeUndefined();
    expect(await sessions.expire('sid-c', 171)).toBeUndefined(); // ended
    expect(await sessions.expire('sid-unknown', 171)).toBeUndefined();
    expect(await sessions.endExpired(171, 10)).toEqual([{ session: at('a', 100, 170), clientIds: ['rp', 'rp2'] }]);
  });
});
