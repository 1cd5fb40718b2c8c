import type { Command } from 'commander';
import { withContext, type CliContextFactory } from './context.js';
import { CliError } from './output.js';

/** `trusty tokens revoke`: every token of a client or a user, at once (docs/users.md). */
export function register(program: Command, context: CliContextFactory): void {
  const tokens = program.command('tokens').description('Tokens: revoke every token of a client or a user');

  tokens
    .command('revoke')
    .description('Revoke at once every token of a client (its client_credentials tokens too) or of a user (its sessions end)')
    .option('--client <client_id>', 'a client or service account')
    .option('--user <user>', 'a user, by id or username')
    .action(async (options: { client?: string; user?: string }) => {
      if ((options.client === undefined) === (options.user === undefined)) throw new CliError('give exactly one of --client <client_id> or --user <username|id>', 2);
      await withContext(context, async (c) => {
        const { owner, counts } = await c.control.tokens.revoke(c.actor, { clientId: options.client, user: options.user });
        // Whose tokens (a username given, its id shown), then what was revoked.
        c.print({ ...('clientId' in owner ? { client_id: owner.clientId } : { user_id: owner.userId }), revoked: true, ...counts });
      });
    });
}
