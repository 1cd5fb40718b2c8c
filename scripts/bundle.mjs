// Bundles the compiled server (dist/src) into one ES module, dist/trusty.mjs: one module instead
// of hundreds takes about 13 MB less memory at rest (README, Performance). Native addons and pino
// (which loads its helpers by path) stay in node_modules. `npm start` runs dist/trusty.cjs, the
// CommonJS entry that sizes libuv's thread pool before it loads dist/trusty.mjs (src/launch.ts).
// dist/trusty-cli.mjs is the `trusty` CLI, for images built without the TypeScript sources
// (bin/trusty.mjs picks it).
import { renameSync } from 'node:fs';
import { build as esbuild } from 'esbuild';

/**
 * esbuild, written beside the target then renamed over it: a server started while another
 * `npm start` (or a test) rebuilds loads the old bundle or the new one, never half of one.
 */
const build = async ({ outfile, ...options }) => {
  const partial = `${outfile}.${process.pid}.partial`;
  await esbuild({ ...options, outfile: partial });
  renameSync(partial, outfile);
};

/** One ES module from a compiled entry point, its native and path-loading dependencies left out. */
const esmBundle = (entry, outfile) =>
  build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // OpenTelemetry is loaded with import() only when tracing is on (src/infrastructure/tracing.ts):
    // left in node_modules, a server without it neither loads nor parses it.
    external: ['better-sqlite3', 'bcrypt', 'pino', '@opentelemetry/*'],
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: { js: "import { createRequire as __trustyRequire } from 'node:module'; const require = __trustyRequire(import.meta.url);" },
    // Whitespace and syntax only: identifiers stay readable in stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  });

await esmBundle('dist/src/server.js', 'dist/trusty.mjs');
await esmBundle('dist/src/cli/bin.js', 'dist/trusty-cli.mjs');

await build({
  entryPoints: ['dist/src/launch.js'],
  outfile: 'dist/trusty.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
});
