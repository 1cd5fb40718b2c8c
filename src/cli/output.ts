import { MAX_PAGE_SIZE } from '../application/admin/paging.js';

/** A failure the CLI reports as one line on stderr, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * `--limit`: decimal digits only, 1–MAX_PAGE_SIZE (Number() alone would take `0x10`, `1e2`, ` 5`);
 * else exit 2.
 */
export function parseLimit(value: string): number {
  const limit = /^[0-9]{1,3}$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) throw new CliError(`--limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, 2);
  return limit;
}

/** Longest cell of a human table; longer values are cut with an ellipsis (--json shows them whole). */
const MAX_CELL = 60;

function cell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

/** Rows as an aligned table: the given columns, or the keys of the first row. */
export function table(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  if (rows.length === 0) return '(none)\n';
  const names = columns ?? Object.keys(rows[0]!);
  const cells = rows.map((row) => names.map((name) => cell(row[name])));
  const widths = names.map((name, i) => Math.max(name.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(names.map((n) => n.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** One record as `key: value` lines (nested values as JSON). */
export function record(value: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(value).map((k) => k.length));
  return (
    Object.entries(value)
      .map(([key, member]) => `${`${key}:`.padEnd(width + 2)}${member === null || member === undefined ? '' : typeof member === 'object' ? JSON.stringify(member) : String(member)}`)
      .join('\n') + '\n'
  );
}

/**
 * Prints a result: with --json, the JSON document (one line, for scripts); otherwise a table for a
 * list (an array, or a page `{ items, next_cursor }`), `key: value` lines for one record.
 */
export function output(data: unknown, options: { json: boolean; columns?: readonly string[] }): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(data)}\n`);
    return;
  }
  if (Array.isArray(data)) {
    process.stdout.write(table(data as Record<string, unknown>[], options.columns));
  } else if (data !== null && typeof data === 'object' && Array.isArray((data as { items?: unknown }).items)) {
    const page = data as { items: Record<string, unknown>[]; next_cursor?: string | null };
    process.stdout.write(table(page.items, options.columns));
    if (page.next_cursor) process.stdout.write(`more: --cursor ${page.next_cursor}\n`);
  } else if (data !== null && typeof data === 'object') {
    process.stdout.write(record(data as Record<string, unknown>));
  } else if (data !== undefined) {
    process.stdout.write(`${String(data)}\n`);
  }
}
