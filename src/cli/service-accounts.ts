import type { Command } from 'commander';
import { PAGE_MAX } from '../application/admin/clients.js';
import type { ServiceAccountCreated } from '../application/admin/service-accounts.js';
import { withContext, type CliContextFactory } from './context.js';
import { CliError } from './output.js';

const COLUMNS = ['client_id', 'enabled', 'token_endpoint_auth_method', 'scope', 'owner', 'expires_at', 'created_at'] as const;

/** --expires: a date (midnight UTC) or an ISO 8601 date-time; whether it is ahead is the service's check. */
export function expiryOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(iso) || Number.isNaN(Date.parse(iso))) {
    throw new CliError('--expires must be a date (2027-01-01) or an ISO 8601 date-time (2027-01-01T12:00:00Z)', 2);
  }
  return iso;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** What an operator reads after `service-account create`: the credential once, and how to get a first token. */
export function firstTokenGuide(account: ServiceAccountCreated): string {
  const lines = [
    `Service account ${account.client_id} created.`,
    '',
    `client_id:       ${account.client_id}`,
    `token_endpoint:  ${account.token_endpoint}`,
    `scope:           ${account.scope}`,
    ...(account.assertion_audience !== undefined ? [`assertion aud:   ${account.assertion_audience}  (the issuer; alg ES256)`] : []),
    ...(account.expires_at !== null ? [`expires_at:      ${account.expires_at}`] : []),
    '',
  ];
  const insecure = account.issuer.startsWith('http:') ? ', { execute: [client.allowInsecureRequests] }' : '';
  if (account.private_jwk !== undefined) {
    const file = `${account.client_id}.jwk.json`;
    lines.push(
      'WARNING: the private key below is shown this once. Trusty did not store it: save it now (a secret manager,',
      `or a file readable by the service only, e.g. ${file}); if it is lost, replace the key with clients set-jwks.`,
      '',
      JSON.stringify(account.private_jwk),
      '',
      `First token (Node.js 20+, npm install openid-client; the key in ${file}):`,
      '',
      "  import { readFileSync } from 'node:fs';",
      "  import * as client from 'openid-client';",
      `  const jwk = JSON.parse(readFileSync('${file}', 'utf8'));`,
      "  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);",
      `  const config = await client.discovery(new URL('${account.issuer}'), '${account.client_id}', undefined, client.PrivateKeyJwt({ key, kid: jwk.kid })${insecure});`,
      `  const tokens = await client.clientCredentialsGrant(config, { scope: '${account.scope}' });`,
      '  console.log(tokens.access_token);',
    );
  } else {
    lines.push(
      'WARNING: the client_secret below is shown this once. Trusty keeps only its digest: save it now.',
      '',
      `client_secret:   ${account.client_secret}`,
      '',
      'First token (curl; the secret in $CLIENT_SECRET):',
      '',
      `  curl -s -u '${account.client_id}':"$CLIENT_SECRET" -d grant_type=client_credentials -d scope='${account.scope}' ${account.token_endpoint}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `trusty service-account …`: client_credentials clients for services and agents (docs/clients.md). */
export function register(program: Command, context: CliContextFactory): void {
  const accounts = program
    .command('service-account')
    .alias('service-accounts')
    .description('Service accounts: client_credentials clients for services and agents, made with their credential in one step');

  accounts
    .command('create <name>')
    .description('Create a service account with a generated ES256 key pair (or --secret); prints the credential once and how to get a first token')
    .requiredOption('--scope <scopes>', 'the scopes it may ask for (space-separated)')
    .option('--secret', 'a generated client_secret instead of a key pair')
    .option('--owner <text>', 'who answers for it')
    .option('--description <text>', 'what it is for')
    .option('--expires <date>', 'when it stops working: a date (2027-01-01, midnight UTC) or an ISO 8601 date-time')
    .option('--resource <url>', 'an RFC 8707 resource (token audience) it may ask for; repeatable', collect)
    .option('--role <name>', 'a role to give it; repeatable', collect)
    .action(async (name: string, options: { scope: string; secret?: boolean; owner?: string; description?: string; expires?: string; resource?: string[]; role?: string[] }) => {
      const expiresAt = expiryOf(options.expires);
      await withContext(context, async (c) => {
        const account = await c.control.serviceAccounts.create(c.actor, {
          name,
          scope: options.scope,
          auth: options.secret === true ? 'client_secret' : 'private_key_jwt',
          ...(options.owner !== undefined ? { owner: options.owner } : {}),
          ...(options.description !== undefined ? { description: options.description } : {}),
          ...(expiresAt !== undefined ? { expires_at: expiresAt } : {}),
          ...(options.resource !== undefined ? { resources: options.resource } : {}),
          ...(options.role !== undefined ? { roles: options.role } : {}),
        });
        if (c.json) c.print(account);
        else process.stdout.write(firstTokenGuide(account));
      });
    });

  accounts
    .command('list')
    .description('List service accounts in client_id order, disabled ones too')
    .option('--enabled', 'only enabled ones')
    .option('--disabled', 'only disabled ones')
    .option('--prefix <text>', 'only client_ids starting with this')
    .option('--limit <n>', `per page (1–${PAGE_MAX})`, '50')
    .option('--cursor <cursor>', "the previous page's next_cursor")
    .action(async (options: { enabled?: boolean; disabled?: boolean; prefix?: string; limit: string; cursor?: string }) => {
      const limit = /^\d{1,3}$/.test(options.limit) ? Number(options.limit) : Number.NaN;
      if (!(limit >= 1 && limit <= PAGE_MAX)) throw new CliError(`--limit must be an integer from 1 to ${PAGE_MAX}`, 2);
      if (options.enabled === true && options.disabled === true) throw new CliError('give at most one of --enabled and --disabled', 2);
      await withContext(context, async (c) => {
        const page = await c.control.serviceAccounts.list({
          limit,
          cursor: options.cursor,
          enabled: options.enabled === true ? true : options.disabled === true ? false : undefined,
          clientIdPrefix: options.prefix,
        });
        c.print(page, COLUMNS);
      });
    });
}
