import type { Command } from 'commander';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../application/admin/paging.js';
import { withContext, type CliContext, type CliContextFactory } from './context.js';
import { CliError, parseLimit } from './output.js';

const COLUMNS = ['id', 'username', 'source', 'enabled', 'created_at', 'updated_at'] as const;
/** A password read from stdin is at most 72 bytes (bcrypt's limit); anything far longer is a mistake. */
const MAX_STDIN = 4096;

/** Reads the password from stdin (one line; the trailing newline is not part of it). */
export async function passwordFromStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.length > MAX_STDIN) throw new CliError('--password-stdin: the input is too long for a password', 2);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new CliError('--password-stdin: no password on stdin', 2);
  return password;
}

function parseClaims(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new CliError('--claims must be a JSON object, e.g. \'{"email":"ada@example.com"}\'', 2);
  }
}

/** Prints a user; a generated password is said to be shown once (not stored anywhere). */
function printUser(c: CliContext, user: { readonly password?: string }): void {
  c.print(user);
  if (!c.json && typeof user.password === 'string') process.stderr.write('The password above is shown this once: keep it now.\n');
}

/** `trusty users …`: end-users (docs/users.md); a user is named by id or username (UserAdmin.lookup). */
export function register(program: Command, context: CliContextFactory): void {
  const users = program.command('users').description("End-users: config.yaml's are read-only here; those made by the API or the CLI are managed");

  users
    .command('list')
    .description('List users in username order')
    .option('--source <source>', 'only users of this source: config or api')
    .option('--enabled', 'only enabled users')
    .option('--disabled', 'only disabled users')
    .option('--prefix <text>', 'only usernames starting with this')
    .option('--limit <n>', `users per page (1–${MAX_PAGE_SIZE})`, String(DEFAULT_PAGE_SIZE))
    .option('--cursor <cursor>', "the previous page's next_cursor")
    .action(async (options: { source?: string; enabled?: boolean; disabled?: boolean; prefix?: string; limit: string; cursor?: string }) => {
      const limit = parseLimit(options.limit);
      if (options.source !== undefined && options.source !== 'config' && options.source !== 'api') throw new CliError('--source must be config or api', 2);
      if (options.enabled === true && options.disabled === true) throw new CliError('give at most one of --enabled and --disabled', 2);
      const enabled = options.enabled === true ? true : options.disabled === true ? false : undefined;
      await withContext(context, async (c) => {
        const page = await c.control.users.list({ limit, cursor: options.cursor, source: options.source as 'config' | 'api' | undefined, enabled, usernamePrefix: options.prefix });
        c.print(page, COLUMNS);
      });
    });

  users
    .command('get <user>')
    .description('Show a user (by id or username)')
    .action(async (ref: string) => {
      await withContext(context, async (c) => c.print(await c.control.users.get(ref)));
    });

  users
    .command('create <username>')
    .description('Create a user; without --password-stdin a password is generated and printed once')
    .option('--password-stdin', 'read the password from stdin (one line)')
    .option('--claims <json>', 'standard claims as a JSON object, e.g. \'{"name":"Ada","email":"ada@example.com"}\'')
    .action(async (username: string, options: { passwordStdin?: boolean; claims?: string }) => {
      const password = options.passwordStdin === true ? await passwordFromStdin() : undefined;
      const claims = parseClaims(options.claims);
      await withContext(context, async (c) => {
        const user = await c.control.users.create(c.actor, { username, ...(password !== undefined ? { password } : {}), ...(claims !== undefined ? { claims } : {}) });
        printUser(c, user);
      });
    });

  users
    .command('update <user>')
    .description("Change a user's claims (merge: a claim set to null is removed)")
    .requiredOption('--claims <json>', 'the claims to set, as a JSON object')
    .action(async (ref: string, options: { claims: string }) => {
      const claims = parseClaims(options.claims);
      await withContext(context, async (c) => {
        c.print(await c.control.users.updateClaims(c.actor, ref, claims));
      });
    });

  users
    .command('disable <user>')
    .description('Disable a user: no more logins; its sessions (clients told), refresh and access tokens end at once')
    .action(async (ref: string) => {
      await withContext(context, async (c) => {
        c.print(await c.control.users.disable(c.actor, ref));
      });
    });

  users
    .command('enable <user>')
    .description('Enable a disabled user (nothing it had comes back)')
    .action(async (ref: string) => {
      await withContext(context, async (c) => {
        c.print(await c.control.users.enable(c.actor, ref));
      });
    });

  users
    .command('unlock <user>')
    .description('Lift the lock (or the waits) that failed logins put on a user: its next login is checked at once')
    .action(async (ref: string) => {
      await withContext(context, async (c) => {
        c.print(await c.control.users.unlock(c.actor, ref));
      });
    });

  users
    .command('reset-password <user>')
    .description("Set a user's password (generated and printed once without --password-stdin); its sessions and tokens end, its lockout is lifted")
    .option('--password-stdin', 'read the new password from stdin (one line)')
    .action(async (ref: string, options: { passwordStdin?: boolean }) => {
      const password = options.passwordStdin === true ? await passwordFromStdin() : undefined;
      await withContext(context, async (c) => {
        printUser(c, await c.control.users.resetPassword(c.actor, ref, password));
      });
    });
}
