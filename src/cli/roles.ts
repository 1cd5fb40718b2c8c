import type { Command } from 'commander';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../application/admin/paging.js';
import type { Principal, PrincipalRolesView } from '../application/admin/roles.js';
import { withContext, type CliContext, type CliContextFactory } from './context.js';
import { CliError, parseLimit } from './output.js';

const COLUMNS = ['name', 'source', 'scope', 'resources', 'description'] as const;

const collect = (value: string, previous: string[]) => [...previous, value];

interface PrincipalOptions {
  readonly client?: string;
  readonly user?: string;
}

/** --client <client_id> or --user <username|id>, exactly one. */
function principalOf(options: PrincipalOptions): Principal {
  if ((options.client === undefined) === (options.user === undefined)) throw new CliError('give exactly one of --client <client_id> or --user <username|id>', 2);
  return options.client !== undefined ? { type: 'client', id: options.client } : { type: 'user', id: options.user! };
}

function withPrincipal(command: Command): Command {
  return command.option('--client <client_id>', 'a client (or service account)').option('--user <username|id>', 'a user, by username or id (sub)');
}

function printRoles(context: CliContext, roles: PrincipalRolesView): void {
  if (context.json) return context.print(roles);
  context.print(roles.roles, ['name', 'source']);
  if (roles.effective !== undefined) {
    context.print({ effective_scope: roles.effective.scope, effective_resources: roles.effective.resources.join(' ') || '(none)' });
  }
}

/** `trusty roles …`: roles for services and agents (docs/roles.md), the same rules as the API's. */
export function register(program: Command, context: CliContextFactory): void {
  const roles = program.command('roles').description('Roles: scopes and resources given to clients (client_credentials) and users (the roles claim)');

  roles
    .command('list')
    .description('List roles in name order')
    .option('--limit <n>', `roles per page (1–${MAX_PAGE_SIZE})`, String(DEFAULT_PAGE_SIZE))
    .option('--cursor <cursor>', "the previous page's next_cursor")
    .action(async (options: { limit: string; cursor?: string }) => {
      const limit = parseLimit(options.limit);
      await withContext(context, async (c) => {
        c.print(await c.control.roles.list({ limit, cursor: options.cursor }), COLUMNS);
      });
    });

  roles
    .command('get <name>')
    .description('Show a role')
    .action(async (name: string) => {
      await withContext(context, async (c) => c.print(await c.control.roles.get(name)));
    });

  roles
    .command('create <name>')
    .description('Create a role')
    .option('--scope <scopes>', 'space-separated scopes the role lets a client ask for', '')
    .option('--resource <url>', 'an RFC 8707 resource the role lets a client ask for (repeatable)', collect, [])
    .option('--description <text>', 'what the role is for')
    .action(async (name: string, options: { scope: string; resource: string[]; description?: string }) => {
      // A config.yaml role entry, checked by the service with the file's rules.
      const entry = { name, scope: options.scope, resources: options.resource, ...(options.description !== undefined ? { description: options.description } : {}) };
      await withContext(context, async (c) => c.print(await c.control.roles.create(c.actor, entry)));
    });

  roles
    .command('update <name>')
    .description('Change a role made through the API or the CLI (what is not given stays)')
    .option('--scope <scopes>', 'the new space-separated scopes')
    .option('--resource <url>', 'the new resources (repeatable; replaces the list)', collect, [])
    .option('--clear-resources', 'remove every resource')
    .option('--description <text>', 'the new description ("" removes it)')
    .action(async (name: string, options: { scope?: string; resource: string[]; clearResources?: boolean; description?: string }) => {
      if (options.clearResources === true && options.resource.length > 0) throw new CliError('give --resource or --clear-resources, not both', 2);
      // A merge patch of the role entry (as PATCH /roles/{name}): what is not given stays, null removes.
      const patch = {
        ...(options.scope !== undefined ? { scope: options.scope } : {}),
        ...(options.clearResources === true ? { resources: [] } : options.resource.length > 0 ? { resources: options.resource } : {}),
        ...(options.description !== undefined ? { description: options.description === '' ? null : options.description } : {}),
      };
      await withContext(context, async (c) => c.print(await c.control.roles.update(c.actor, name, patch)));
    });

  roles
    .command('delete <name>')
    .description('Delete a role made through the API or the CLI, and every assignment of it')
    .action(async (name: string) => {
      await withContext(context, async (c) => {
        await c.control.roles.delete(c.actor, name);
        c.print({ name, deleted: true });
      });
    });

  withPrincipal(roles.command('assign <role>').description('Give a role to a client or a user')).action(async (role: string, options: PrincipalOptions) => {
    const principal = principalOf(options);
    await withContext(context, async (c) => printRoles(c, await c.control.roles.assign(c.actor, role, principal)));
  });

  withPrincipal(roles.command('unassign <role>').description('Take back a role given through the API or the CLI (config.yaml\'s stay)')).action(
    async (role: string, options: PrincipalOptions) => {
      const principal = principalOf(options);
      await withContext(context, async (c) => printRoles(c, await c.control.roles.unassign(c.actor, role, principal)));
    },
  );

  withPrincipal(roles.command('of').description("Show a client's or user's roles (and a client's effective scope and resources)")).action(async (options: PrincipalOptions) => {
    const principal = principalOf(options);
    await withContext(context, async (c) =>
      printRoles(c, principal.type === 'client' ? await c.control.roles.clientRoles(principal.id) : await c.control.roles.userRoles(principal.id)),
    );
  });
}
