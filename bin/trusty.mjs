#!/usr/bin/env node
// The `trusty` CLI. In a checkout it runs the TypeScript sources through tsx (a dev dependency),
// so it is never stale; in a built image without them it runs the bundle from `npm run build`.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('../', import.meta.url);
const require = createRequire(import.meta.url);
let tsx;
try {
  tsx = require.resolve('tsx/esm/api');
} catch {
  tsx = undefined;
}
if (tsx !== undefined && existsSync(new URL('src/cli/bin.ts', root))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('src/cli/bin.ts', root).href);
} else if (existsSync(new URL('dist/trusty-cli.mjs', root))) {
  await import(new URL('dist/trusty-cli.mjs', root).href);
} else {
  process.stderr.write('trusty: neither the sources with tsx nor dist/trusty-cli.mjs (npm run build) are here\n');
  process.exitCode = 1;
}
