import { Command, CommanderError } from 'commander';
import { AdminError } from '../application/admin/errors.js';
import { ConfigError } from '../config/load.js';
import { contextFactory, type GlobalOptions } from './context.js';
import { CliError } from './output.js';
import { register as registerAudit } from './audit.js';
import { register as registerClients } from './clients.js';
import { register as registerServiceAccounts } from './service-accounts.js';
import { register as registerRoles } from './roles.js';
import { register as registerKeys } from './keys.js';
import { register as registerUsers } from './users.js';
import { register as registerSessions } from './sessions.js';
import { register as registerTokens } from './tokens.js';

/**
 * `trusty`: the operator's command line. Each command group is a thin adapter (src/cli/<group>.ts)
 * over the same control-plane services as the management API, on the database of a stopped or
 * running server (a running one sees the change on its next request).
 *
 * Exit codes: 0 done, 1 failure, 2 bad input (arguments, configuration, a field), 3 not found,
 * 4 conflict.
 */
export const EXIT = { failure: 1, badInput: 2, notFound: 3, conflict: 4 } as const;

export function buildProgram(): Command {
  const program = new Command('trusty')
    .description('Manage a Trusty OpenID Provider: clients, service accounts, users, roles, sessions, tokens, keys, audit')
    .option('-c, --config <path>', 'config.yaml of the server (default: $TRUSTY_CONFIG or ./config.yaml)')
    .option('--json', 'print machine-readable JSON instead of tables')
    .showHelpAfterError()
    .exitOverride();
  const context = contextFactory(() => program.opts<GlobalOptions>());
  // Command groups, one file each, register here.
  registerClients(program, context);
  registerServiceAccounts(program, context);
  registerAudit(program, context);
  registerRoles(program, context);
  registerKeys(program, context);
  registerUsers(program, context);
  registerSessions(program, context);
  registerTokens(program, context);
  return program;
}

/** Turns what a command throws into one line on stderr and an exit code. */
export function exitCodeOf(error: unknown): { code: number; message: string | undefined } {
  if (error instanceof CommanderError) {
    // Help and version exit 0; a usage error was already printed by commander.
    return { code: error.exitCode === 0 ? 0 : EXIT.badInput, message: undefined };
  }
  if (error instanceof CliError) return { code: error.exitCode, message: error.message };
  if (error instanceof ConfigError) return { code: EXIT.badInput, message: `invalid configuration: ${error.message}` };
  if (error instanceof AdminError) {
    const code = error.kind === 'not_found' ? EXIT.notFound : error.kind === 'conflict' ? EXIT.conflict : error.kind === 'invalid_field' ? EXIT.badInput : EXIT.failure;
    return { code, message: error.message };
  }
  if (error !== null && typeof error === 'object' && 'issues' in error && Array.isArray((error as { issues: unknown[] }).issues)) {
    const issues = (error as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues;
    return { code: EXIT.badInput, message: issues.map((i) => `${i.path.map(String).join('.') || 'input'}: ${i.message}`).join('; ') };
  }
  return { code: EXIT.failure, message: error instanceof Error ? error.message : String(error) };
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (error) {
    const { code, message } = exitCodeOf(error);
    if (message !== undefined) process.stderr.write(`trusty: ${message}\n`);
    return code;
  }
}
