import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { AUDIT_PAGE_MAX, AUDIT_READ_BATCH, auditEntryView, type AuditSearch } from '../application/admin/audit.js';
import type { AuditEntry } from '../application/ports/audit-reader.js';
import { withContext, type CliContext, type CliContextFactory } from './context.js';
import { CliError } from './output.js';

/** How often `audit tail -f` looks for new events. */
export const FOLLOW_POLL_MS = 500;
/**
 * Without --until, an export ends this long before it started: a running server writes an event
 * up to 25 ms after it happened (src/infrastructure/sqlite/audit-log.ts), so the next export,
 * starting where this one ended, misses nothing.
 */
const EXPORT_SETTLE_MS = 1000;

interface FilterOptions {
  readonly event?: string;
  readonly client?: string;
  readonly user?: string;
  readonly actor?: string;
}

function withFilters(command: Command): Command {
  return command
    .option('--event <name>', 'an event name (token.issued) or a prefix ending in .* (client.*)')
    .option('--client <client_id>', 'events about this client')
    .option('--user <user>', 'events about this user, by id or username')
    .option('--actor <actor>', 'changes made by this actor (client:<id> or cli:<user>)');
}

/** The filters; a user given by username is filtered on by its id, which the events carry. */
async function searchOf(cli: CliContext, options: FilterOptions): Promise<AuditSearch> {
  const userId = options.user === undefined ? undefined : (await cli.control.users.get(options.user)).id;
  return { event: options.event, clientId: options.client, userId, actor: options.actor };
}

/** One line per event: time, event, client, user, actor, ip (`-` for none). */
export function auditLine(entry: AuditEntry): string {
  const view = auditEntryView(entry);
  return `${view.at}  ${view.event.padEnd(22)}  client=${view.client_id ?? '-'}  user=${view.user_id ?? '-'}  actor=${view.actor ?? '-'}  ip=${view.ip ?? '-'}`;
}

/**
 * Lines to stdout, waiting while it is full (a slow pipe to a SIEM shipper); once its reader went
 * away (`| head`: EPIPE) `closed` is true and nothing more is written. Once `stop` aborts (Ctrl-C),
 * a wait for a full stdout ends and nothing more is written either: an interrupt never waits for
 * a reader that does not read.
 */
function stdoutLines(stop?: AbortSignal) {
  let closed = false;
  let markClosed: () => void = () => undefined;
  const gone = new Promise<void>((resolve) => (markClosed = resolve));
  const onError = () => {
    closed = true;
    markClosed();
  };
  process.stdout.on('error', onError);
  return {
    get closed() {
      return closed;
    },
    async write(line: string): Promise<void> {
      if (closed || stop?.aborted === true) return;
      if (!process.stdout.write(`${line}\n`)) await Promise.race([once(process.stdout, 'drain', { signal: stop }).catch(() => undefined), gone]);
    },
    dispose() {
      process.stdout.off('error', onError);
    },
  };
}

/** `trusty audit tail` and `trusty audit export` (docs/audit.md). */
export function register(program: Command, context: CliContextFactory): void {
  const audit = program.command('audit').description('Read the audit log: the last events, follow new ones, or export to a SIEM');

  withFilters(
    audit
      .command('tail')
      .description('Print the last events, oldest first; with -f, keep printing new ones until interrupted')
      .option('-n, --lines <count>', `how many events to print first (1–${AUDIT_PAGE_MAX})`, '20')
      .option('-f, --follow', `then print each new event as it is written (checked every ${FOLLOW_POLL_MS} ms) until Ctrl-C`),
  ).action(async (options: FilterOptions & { lines: string; follow?: boolean }) => {
    const count = /^\d{1,3}$/.test(options.lines) ? Number(options.lines) : Number.NaN;
    if (!(count >= 1 && count <= AUDIT_PAGE_MAX)) throw new CliError(`-n must be a whole number from 1 to ${AUDIT_PAGE_MAX}`, 2);
    let interrupted = false;
    await withContext(context, async (cli) => {
      const search = await searchOf(cli, options);
      // Listening before the first line is printed: an interrupt from then on ends cleanly (exit 0).
      const stop = options.follow === true ? interruption() : undefined;
      const out = stdoutLines(stop?.signal);
      const print = (entry: AuditEntry) => out.write(cli.json ? JSON.stringify(auditEntryView(entry)) : auditLine(entry));
      try {
        const tail = await cli.control.audit.tail(search, count);
        for (const entry of tail.entries) await print(entry);
        if (stop === undefined) return;
        let lastId = tail.lastId;
        while (!stop.signal.aborted && !out.closed) {
          const next = await cli.control.audit.follow(search, lastId);
          for (const entry of next.entries) await print(entry);
          lastId = next.lastId;
          // A full batch means more is waiting: read on at once.
          if (next.entries.length < AUDIT_READ_BATCH) await sleep(FOLLOW_POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
        }
      } finally {
        interrupted = stop?.signal.aborted === true;
        stop?.dispose();
        out.dispose();
      }
    });
    // Interrupted while stdout's reader is not reading: what stdout still holds is dropped (the
    // database is closed, the audit log flushed), or the process would wait for that reader.
    if (interrupted && process.stdout.writableLength > 0) process.exit(0);
  });

  withFilters(
    audit
      .command('export')
      .description('Write events as JSON lines, oldest first, for a SIEM; read in pages, so any size of log streams')
      .requiredOption('--since <time>', 'from this time: ISO 8601 (2026-01-31T00:00:00Z), a date, epoch ms, or a duration back from now (24h, 7d)')
      .option('--until <time>', 'before this time (same forms); default: one second ago, where the next export can start'),
  ).action(async (options: FilterOptions & { since: string; until?: string }) => {
    const until = options.until ?? String(Date.now() - EXPORT_SETTLE_MS);
    await withContext(context, async (cli) => {
      const search: AuditSearch = { ...(await searchOf(cli, options)), since: options.since, until };
      const out = stdoutLines();
      try {
        for await (const entry of cli.control.audit.export(search)) {
          if (out.closed) break;
          await out.write(JSON.stringify(auditEntryView(entry)));
        }
      } finally {
        out.dispose();
      }
    });
  });
}

/** SIGINT or SIGTERM, once, as an AbortSignal; dispose() stops listening. */
function interruption(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}
