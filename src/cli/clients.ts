import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { ClientWithSecret } from '../application/admin/clients.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../application/admin/paging.js';
import { GRANT_TYPES, SECRET_GRACE_DEFAULT, SECRET_GRACE_MAX, type GrantType } from '../domain/client.js';
import { withContext, type CliContext, type CliContextFactory } from './context.js';
import { CliError, parseLimit } from './output.js';

const COLUMNS = ['client_id', 'source', 'kind', 'enabled', 'token_endpoint_auth_method', 'grant_types', 'scope', 'owner', 'expires_at'] as const;
/** A client file is small: a config.yaml entry with at most 20 keys is about 20 KB. */
const MAX_FILE_BYTES = 256 * 1024;

/** A YAML or JSON file (JSON is YAML), or stdin for `-`. */
export async function readDocument(path: string): Promise<unknown> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`--file ${path}: ${(error as Error).message}`, 2);
  }
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new CliError(`--file ${path}: larger than ${MAX_FILE_BYTES} bytes`, 2);
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw new CliError(`--file ${path}: not YAML or JSON (${(error as Error).message.split('\n')[0]})`, 2);
  }
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.length > MAX_FILE_BYTES) break;
  }
  return text;
}

/** Prints a client; a secret the server generated is said to be shown once. */
function printClient(c: CliContext, client: ClientWithSecret | Record<string, unknown>): void {
  c.print(client);
  if (!c.json && typeof client.client_secret === 'string') process.stderr.write('The client_secret above is shown this once: store it now (Trusty keeps only its digest).\n');
}

/** `trusty clients …`: clients (docs/clients.md); config.yaml's may be read, not changed. */
export function register(program: Command, context: CliContextFactory): void {
  const clients = program.command('clients').description("Clients: config.yaml's are read-only here; those made by the API or the CLI are managed");

  clients
    .command('list')
    .description('List clients in client_id order, disabled ones too')
    .option('--source <source>', 'only clients of this source: config or api')
    .option('--enabled', 'only enabled clients')
    .option('--disabled', 'only disabled clients')
    .option('--grant-type <type>', `only clients allowed this grant type (${GRANT_TYPES.join(', ')})`)
    .option('--prefix <text>', 'only client_ids starting with this')
    .option('--limit <n>', `clients per page (1–${MAX_PAGE_SIZE})`, String(DEFAULT_PAGE_SIZE))
    .option('--cursor <cursor>', "the previous page's next_cursor")
    .action(async (options: { source?: string; enabled?: boolean; disabled?: boolean; grantType?: string; prefix?: string; limit: string; cursor?: string }) => {
      const limit = parseLimit(options.limit);
      if (options.source !== undefined && options.source !== 'config' && options.source !== 'api') throw new CliError('--source must be config or api', 2);
      if (options.enabled === true && options.disabled === true) throw new CliError('give at most one of --enabled and --disabled', 2);
      if (options.grantType !== undefined && !(GRANT_TYPES as readonly string[]).includes(options.grantType)) {
        throw new CliError(`--grant-type must be one of ${GRANT_TYPES.join(', ')}`, 2);
      }
      await withContext(context, async (c) => {
        const page = await c.control.clients.list({
          limit,
          cursor: options.cursor,
          source: options.source as 'config' | 'api' | undefined,
          enabled: options.enabled === true ? true : options.disabled === true ? false : undefined,
          grantType: options.grantType as GrantType | undefined,
          clientIdPrefix: options.prefix,
        });
        c.print(page, COLUMNS);
      });
    });

  clients
    .command('get <client_id>')
    .description('Show a client (never its secret)')
    .action(async (clientId: string) => {
      await withContext(context, async (c) => c.print(await c.control.clients.get(clientId)));
    });

  clients
    .command('create')
    .description('Create a client from a config.yaml client entry (YAML or JSON); without client_secret one is generated and printed once')
    .requiredOption('-f, --file <path>', 'the entry (- for stdin)')
    .action(async (options: { file: string }) => {
      const entry = await readDocument(options.file);
      await withContext(context, async (c) => printClient(c, await c.control.clients.create(c.actor, entry)));
    });

  clients
    .command('update <client_id>')
    .description('Change a client made by the API or the CLI: the file holds the fields to change (null removes one); not the secret')
    .requiredOption('-f, --file <path>', 'the fields (YAML or JSON; - for stdin)')
    .action(async (clientId: string, options: { file: string }) => {
      const patch = await readDocument(options.file);
      await withContext(context, async (c) => printClient(c, await c.control.clients.update(c.actor, clientId, patch)));
    });

  clients
    .command('delete <client_id>')
    .description('Delete a client made by the API or the CLI and end its grants (the audit log keeps its history)')
    .action(async (clientId: string) => {
      await withContext(context, async (c) => {
        await c.control.clients.delete(c.actor, clientId);
        c.print(c.json ? { client_id: clientId, deleted: true } : `client ${clientId} deleted`);
      });
    });

  for (const [verb, description] of [
    ['disable', 'Disable a client: it can no longer authenticate, its tokens stop introspecting active, its grants end'],
    ['enable', 'Enable a client again (tokens issued before it was disabled stay dead)'],
  ] as const) {
    clients
      .command(`${verb} <client_id>`)
      .description(description)
      .action(async (clientId: string) => {
        await withContext(context, async (c) => c.print(await c.control.clients[verb](c.actor, clientId)));
      });
  }

  clients
    .command('rotate-secret <client_id>')
    .description(`Give a client a new secret, printed once; the previous one stays valid for --grace seconds`)
    .option('--grace <seconds>', `how long the previous secret stays valid (0–${SECRET_GRACE_MAX}; default 24 h)`, String(SECRET_GRACE_DEFAULT))
    .action(async (clientId: string, options: { grace: string }) => {
      const grace = /^\d{1,7}$/.test(options.grace) ? Number(options.grace) : Number.NaN;
      if (!(grace >= 0 && grace <= SECRET_GRACE_MAX)) throw new CliError(`--grace must be a whole number of seconds from 0 to ${SECRET_GRACE_MAX}`, 2);
      await withContext(context, async (c) => printClient(c, await c.control.clients.rotateSecret(c.actor, clientId, grace)));
    });

  clients
    .command('set-jwks <client_id>')
    .description("Replace a client's public keys (private_key_jwt) with a JWK set { keys: [...] }; a jwks_uri is dropped")
    .requiredOption('-f, --file <path>', 'the JWK set (JSON or YAML; - for stdin)')
    .action(async (clientId: string, options: { file: string }) => {
      const jwks = await readDocument(options.file);
      await withContext(context, async (c) => c.print(await c.control.clients.replaceJwks(c.actor, clientId, jwks)));
    });

  clients
    .command('add-key <client_id>')
    .description('Add one public JWK beside the registered ones (a key rollover)')
    .requiredOption('-f, --file <path>', 'the public JWK (JSON or YAML; - for stdin)')
    .action(async (clientId: string, options: { file: string }) => {
      const key = await readDocument(options.file);
      await withContext(context, async (c) => c.print(await c.control.clients.addKey(c.actor, clientId, key)));
    });
}
