import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createTrusty, type Bounds, type Trusty } from '../../src/container.js';
import { createLogger } from '../../src/infrastructure/logger.js';
import { TestClock } from './clock.js';

export const ALICE = { username: 'alice', password: 'alice-password' } as const;
export const WEB_SECRET = 'web-app-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const POST_SECRET = 'post-app-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export interface TestServer {
  readonly issuer: string;
  readonly clock: TestClock;
  readonly trusty: Trusty;
  readonly app: FastifyInstance;
  readonly dbPath: string;
  /** The config.yaml the server was started with (for `trusty --config`). */
  readonly configPath: string;
  /** Where relying parties in tests are redirected to (nothing listens there). */
  callback(clientId: string): string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The clients every e2e test can use; `extra` adds more (a function gets the issuer, unknown until the port is). */
export function testConfig(
  port: number,
  dir: string,
  extra: { clients?: unknown[] | ((issuer: string) => unknown[]); users?: unknown[]; settings?: Record<string, unknown> } = {},
) {
  const callback = (id: string) => `http://127.0.0.1:9/${id}/callback`;
  const issuer = `http://127.0.0.1:${port}`;
  return {
    issuer,
    port,
    log_level: 'silent',
    database: { path: join(dir, 'trusty.db') },
    passwords: { bcrypt_cost: 4 },
    clients: [
      {
        client_id: 'web-app',
        client_name: 'Web App',
        client_secret: WEB_SECRET,
        redirect_uris: [callback('web-app')],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile email offline_access',
        require_consent: false,
      },
      {
        client_id: 'post-app',
        token_endpoint_auth_method: 'client_secret_post',
        client_secret: POST_SECRET,
        redirect_uris: [callback('post-app')],
        scope: 'openid email',
        require_consent: false,
        id_token_signed_response_alg: 'PS256',
      },
      {
        client_id: 'spa',
        client_name: 'Single-Page App',
        token_endpoint_auth_method: 'none',
        redirect_uris: [callback('spa')],
        scope: 'openid profile email',
        require_consent: true,
        id_token_signed_response_alg: 'EdDSA',
      },
      {
        client_id: 'legacy-rs256',
        token_endpoint_auth_method: 'none',
        redirect_uris: [callback('legacy-rs256')],
        scope: 'openid',
        require_consent: false,
        id_token_signed_response_alg: 'RS256',
      },
      {
        client_id: 'machine',
        client_secret: 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
        grant_types: ['client_credentials'],
        scope: 'invoices:read',
      },
      ...(typeof extra.clients === 'function' ? extra.clients(issuer) : (extra.clients ?? [])),
    ],
    users: [
      {
        ...ALICE,
        claims: { name: 'Alice Martin', email: 'alice@example.com', email_verified: true, phone_number: '+33 1 23 45 67 89' },
      },
      { username: 'bob', password: 'bob-password', claims: { name: 'Bob Durand' } },
      ...(extra.users ?? []),
    ],
    ...extra.settings,
  };
}

/** Starts Trusty on a loopback port with a fresh SQLite file, as `npm start` would. */
export async function startServer(extra: Parameters<typeof testConfig>[2] = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'trusty-test-'));
  const server = await startServerAt(await freePort(), dir, { extra });
  return {
    ...server,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Trusty on a given port and directory (so a second start, or a second server, uses the same
 * SQLite file and issuer), with bounds lowered and a clock of the test's. close() stops the
 * server and keeps the directory; the caller removes it.
 */
export async function startServerAt(
  port: number,
  dir: string,
  options: { extra?: Parameters<typeof testConfig>[2]; bounds?: Partial<Bounds>; clock?: TestClock } = {},
): Promise<TestServer> {
  // Written to the directory too, so the CLI (`trusty --config <configPath>`) works on the same database.
  const configPath = join(dir, 'config.yaml');
  const text = stringify(testConfig(port, dir, options.extra));
  writeFileSync(configPath, text);
  const config = parseConfig(text, configPath);
  const clock = options.clock ?? new TestClock();
  const log = createLogger('silent');
  const trusty = await createTrusty(config, log, clock, options.bounds);
  const app = await buildApp(trusty.deps, log);
  app.addHook('onClose', async () => trusty.close());
  await app.listen({ port, host: '127.0.0.1' });
  return {
    issuer: config.issuer,
    clock,
    trusty,
    app,
    dbPath: config.database.path,
    configPath,
    callback: (id) => `http://127.0.0.1:9/${id}/callback`,
    close: () => app.close().then(() => undefined),
  };
}
