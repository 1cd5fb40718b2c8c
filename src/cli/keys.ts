import type { Command } from 'commander';
import { withContext, type CliContextFactory } from './context.js';

const KEY_COLUMNS = ['kid', 'alg', 'state', 'activates_at', 'retires_at', 'removes_at'] as const;
const ROTATION_COLUMNS = ['alg', 'retired', 'active', 'activates_at', 'next'] as const;

/** `trusty keys …`: the provider's signing keys (docs/keys.md). A running server sees a rotation on its next request. */
export function register(program: Command, context: CliContextFactory): void {
  const keys = program.command('keys').description('Signing keys: their lifecycle (prepublished, active, retired) and rotation');

  keys
    .command('list')
    .description('List the published keys with their state and dates')
    .action(async () => {
      await withContext(context, async (c) => c.print({ items: await c.control.keys.list() }, KEY_COLUMNS));
    });

  keys
    .command('rotate')
    .description('Rotate now: the prepublished key signs from now on, the signing one retires, a new successor is prepublished')
    .option('--alg <alg>', 'only this algorithm (ES256, PS256, RS256 or EdDSA); every one by default')
    .option('--force', 'even within 300 s of the previous rotation (the new key may be missing from JWKS caches): for a suspected key compromise')
    .action(async (options: { alg?: string; force?: boolean }) => {
      await withContext(context, async (c) => c.print(await c.control.keys.rotate(c.actor, { alg: options.alg, force: options.force === true }), ROTATION_COLUMNS));
    });
}
