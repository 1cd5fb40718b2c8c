import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { CONTROL_POLL_INTERVAL_MS, ControlVersion } from './control-version.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, CONTROL_POLL_INTERVAL_MS + 1));

describe('ControlVersion', () => {
  let dir: string;
  let server: Db;
  let cli: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trusty-control-'));
    server = openDatabase(join(dir, 'trusty.db'));
    migrate(server.sqlite);
    cli = openDatabase(join(dir, 'trusty.db'));
  });
  afterEach(async () => {
    await server.close();
    await cli.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the listeners when another connection records a change, at the next poll', async () => {
    const changes = new ControlVersion(server.sqlite);
    let calls = 0;
    changes.onChange(() => calls++);
    await tick();
    changes.poll();
    expect(calls).toBe(0);
    await new ControlVersion(cli.sqlite).record(cli.kysely);
    await tick();
    changes.poll();
    expect(calls).toBe(1);
    await tick();
    changes.poll();
    expect(calls).toBe(1);
  });

  it('ignores writes of another connection that are not control-plane changes', async () => {
    const changes = new ControlVersion(server.sqlite);
    let calls = 0;
    changes.onChange(() => calls++);
    cli.sqlite.prepare("INSERT INTO audit_log (at_ms, event) VALUES (1, 'token.issued')").run();
    await tick();
    changes.poll();
    expect(calls).toBe(0);
  });

  it('runs the listeners of its own process at once', async () => {
    const changes = new ControlVersion(server.sqlite);
    let calls = 0;
    changes.onChange(() => calls++);
    await server.kysely.transaction().execute((trx) => changes.record(trx));
    expect(calls).toBe(1);
    expect(server.sqlite.prepare('SELECT version FROM control_version').pluck().get()).toBe(1);
  });
});
