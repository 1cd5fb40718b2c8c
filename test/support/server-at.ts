import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createTrusty, type Bounds } from '../../src/container.js';
import { createLogger } from '../../src/infrastructure/logger.js';
import { TestClock } from './clock.js';
import { testConfig, type TestServer } from './server.js';

/**
 * startServer's twin for restarts and bounds: Trusty on a given port and directory (so a second
 * start, or a second server, uses the same SQLite file and issuer), with bounds lowered. close()
 * stops the server and keeps the directory; the caller removes it.
 */
export async function startServerAt(
  port: number,
  dir: string,
  options: { extra?: Parameters<typeof testConfig>[2]; bounds?: Partial<Bounds>; clock?: TestClock } = {},
): Promise<TestServer> {
  const config = parseConfig(stringify(testConfig(port, dir, options.extra)), join(dir, 'config.yaml'));
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
    callback: (id) => `http://127.0.0.1:9/${id}/callback`,
    close: () => app.close().then(() => undefined),
  };
}
