import type { Command } from 'commander';
import { withContext, type CliContextFactory } from './context.js';
import { CliError } from './output.js';

const COLUMNS = ['sid', 'auth_time', 'expires_at', 'client_ids'] as const;
const MAX_PAGE = 200;

/** `trusty sessions …`: users' SSO sessions (docs/users.md). */
export function register(program: Command, context: CliContextFactory): void {
  const sessions = program.command('sessions').description("Users' single sign-on sessions");

  sessions
    .command('list')
    .description("List a user's live sessions, newest first")
    .requiredOption('--user <user>', 'the user, by username or id')
    .option('--limit <n>', `sessions per page (1–${MAX_PAGE})`, '50')
    .option('--cursor <cursor>', "the previous page's next_cursor")
    .action(async (options: { user: string; limit: string; cursor?: string }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new CliError(`--limit must be an integer from 1 to ${MAX_PAGE}`, 2);
      await withContext(context, async (c) => {
        const user = await c.control.users.resolve(options.user);
        c.print(await c.control.sessions.list(user.id, { limit, cursor: options.cursor }), COLUMNS);
      });
    });

  sessions
    .command('revoke <sid>')
    .description('End a live session: its browser is signed out, its clients get a back-channel logout token')
    .action(async (sid: string) => {
      await withContext(context, async (c) => {
        await c.control.sessions.revoke(c.actor, sid);
        c.print(c.json ? { sid, revoked: true } : `session ${sid} revoked`);
      });
    });
}
