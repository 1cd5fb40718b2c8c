import type { Command } from 'commander';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../application/admin/paging.js';
import { withContext, type CliContextFactory } from './context.js';
import { parseLimit } from './output.js';

const COLUMNS = ['sid', 'auth_time', 'expires_at', 'client_ids'] as const;

/** `trusty sessions …`: users' SSO sessions (docs/users.md). */
export function register(program: Command, context: CliContextFactory): void {
  const sessions = program.command('sessions').description("Users' single sign-on sessions");

  sessions
    .command('list')
    .description("List a user's live sessions, newest first")
    .requiredOption('--user <user>', 'the user, by id or username')
    .option('--limit <n>', `sessions per page (1–${MAX_PAGE_SIZE})`, String(DEFAULT_PAGE_SIZE))
    .option('--cursor <cursor>', "the previous page's next_cursor")
    .action(async (options: { user: string; limit: string; cursor?: string }) => {
      const limit = parseLimit(options.limit);
      await withContext(context, async (c) => {
        c.print(await c.control.sessions.list(options.user, { limit, cursor: options.cursor }), COLUMNS);
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
