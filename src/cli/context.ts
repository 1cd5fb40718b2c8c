import { userInfo } from 'node:os';
import type { Actor } from '../application/admin/changes.js';
import type { ControlPlane } from '../application/admin/control-plane.js';
import { configPath, loadConfig } from '../config/load.js';
import { openControlPlane, stderrLogger } from '../container.js';
import { output } from './output.js';

/** What a command works with: the control plane on the server's database, and how to print. */
export interface CliContext {
  readonly control: ControlPlane;
  readonly actor: Actor;
  readonly issuer: string;
  readonly json: boolean;
  /** Prints a result as --json asks (see output.ts). */
  print(data: unknown, columns?: readonly string[]): void;
  close(): Promise<void>;
}

export type CliContextFactory = () => Promise<CliContext>;

export interface GlobalOptions {
  readonly config?: string;
  readonly json?: boolean;
}

/** The context of one command run, opened lazily (`--help` opens nothing). */
export function contextFactory(globals: () => GlobalOptions): CliContextFactory {
  return async () => {
    const options = globals();
    const env = options.config !== undefined ? { ...process.env, TRUSTY_CONFIG: options.config } : process.env;
    const config = loadConfig(configPath(env), env);
    // Warnings and errors of the services go to stderr; stdout is the command's output only.
    const log = stderrLogger('warn');
    const { control, close } = await openControlPlane(config, log);
    const json = options.json === true;
    return {
      control,
      // The CLI has the database itself: it may do anything the API's trusty:admin may.
      actor: { id: `cli:${safeUser()}`, admin: true },
      issuer: config.issuer,
      json,
      print: (data, columns) => output(data, { json, ...(columns !== undefined ? { columns } : {}) }),
      close,
    };
  };
}

/** Opens the context, runs the command's work, and always closes (flushing the audit log). */
export async function withContext(factory: CliContextFactory, work: (context: CliContext) => Promise<void>): Promise<void> {
  const context = await factory();
  try {
    await work(context);
  } finally {
    await context.close();
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
