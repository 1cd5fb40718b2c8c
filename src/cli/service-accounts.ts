import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../application/admin/paging.js';
import type { ServiceAccountCreated } from '../application/admin/service-accounts.js';
import { withContext, type CliContextFactory } from './context.js';
import { CliError, parseLimit } from './output.js';

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

/**
 * A new file for a credential (never an existing one: `wx`), mode 0600. `write` writes it and
 * closes it; `discard` (any failure before that) closes and removes it.
 */
function openKeyFile(path: string): { path: string; write(text: string): void; discard(): void } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    throw new CliError(`--key-out ${path}: cannot create the file (${(error as NodeJS.ErrnoException).code ?? 'error'}); it must not exist yet`, 2);
  }
  const close = () => {
    if (fd === undefined) return;
    const open = fd;
    fd = undefined;
    closeSync(open);
  };
  return {
    path,
    write(text) {
      writeSync(fd!, text);
      close();
    },
    discard() {
      try {
        close();
      } finally {
        rmSync(path, { force: true });
      }
    },
  };
}

/**
 * What an operator reads after `service-account create`: the credential once (or the file it was
 * written to), and how to get a first token.
 */
export function firstTokenGuide(account: ServiceAccountCreated, savedTo?: string): string {
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
    const file = savedTo ?? `${account.client_id}.jwk.json`;
    lines.push(
      ...(savedTo !== undefined
        ? [`The private key is in ${savedTo} (mode 0600). Trusty did not store it; if it is lost, replace the key with clients set-jwks.`, '']
        : [
            'WARNING: the private key below is shown this once. Trusty did not store it: save it now (a secret manager,',
            `or a file readable by the service only, e.g. ${file}); if it is lost, replace the key with clients set-jwks.`,
            '',
            JSON.stringify(account.private_jwk),
            '',
          ]),
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
      ...(savedTo !== undefined
        ? [`The client_secret is in ${savedTo} (mode 0600). Trusty keeps only its digest.`, '']
        : ['WARNING: the client_secret below is shown this once. Trusty keeps only its digest: save it now.', '', `client_secret:   ${account.client_secret}`, '']),
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
    .option('--key-out <file>', 'write the private JWK (or the secret) to this new file, readable by its owner only (0600), instead of printing it')
    .action(async (name: string, options: { scope: string; secret?: boolean; owner?: string; description?: string; expires?: string; resource?: string[]; role?: string[]; keyOut?: string }) => {
      const expiresAt = expiryOf(options.expires);
      await withContext(context, async (c) => {
        // Opened once the database is (a bad config leaves no file), before the account exists (a
        // credential shown once must not be lost to a bad path); removed if anything fails before it is written.
        const keyOut = options.keyOut === undefined ? undefined : openKeyFile(options.keyOut);
        let account: ServiceAccountCreated;
        try {
          account = await c.control.serviceAccounts.create(c.actor, {
            name,
            scope: options.scope,
            auth: options.secret === true ? 'client_secret' : 'private_key_jwt',
            ...(options.owner !== undefined ? { owner: options.owner } : {}),
            ...(options.description !== undefined ? { description: options.description } : {}),
            ...(expiresAt !== undefined ? { expires_at: expiresAt } : {}),
            ...(options.resource !== undefined ? { resources: options.resource } : {}),
            ...(options.role !== undefined ? { roles: options.role } : {}),
          });
        } catch (error) {
          keyOut?.discard();
          throw error;
        }
        if (keyOut !== undefined) {
          try {
            keyOut.write(account.private_jwk !== undefined ? `${JSON.stringify(account.private_jwk)}\n` : `${account.client_secret}\n`);
          } catch (error) {
            // The account exists and its credential is shown this once: printed rather than lost.
            keyOut.discard();
            process.stderr.write(`trusty: --key-out ${keyOut.path}: the credential could not be written (${(error as NodeJS.ErrnoException).code ?? 'error'}); it is printed below instead\n`);
            if (c.json) c.print(account);
            else process.stdout.write(firstTokenGuide(account));
            throw new CliError(`service account ${account.client_id} was created, but ${keyOut.path} could not be written: save the credential printed above`, 1);
          }
          const { private_jwk: _key, client_secret: _secret, ...rest } = account;
          if (c.json) c.print({ ...rest, credential_file: keyOut.path });
          else process.stdout.write(firstTokenGuide(account, keyOut.path));
        } else if (c.json) c.print(account);
        else process.stdout.write(firstTokenGuide(account));
      });
    });

  accounts
    .command('list')
    .description('List service accounts in client_id order, disabled ones too')
    .option('--enabled', 'only enabled ones')
    .option('--disabled', 'only disabled ones')
    .option('--prefix <text>', 'only client_ids starting with this')
    .option('--limit <n>', `per page (1–${MAX_PAGE_SIZE})`, String(DEFAULT_PAGE_SIZE))
    .option('--cursor <cursor>', "the previous page's next_cursor")
    .action(async (options: { enabled?: boolean; disabled?: boolean; prefix?: string; limit: string; cursor?: string }) => {
      const limit = parseLimit(options.limit);
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
