import { InvalidField } from './errors.js';

/**
 * Paging, the same for every list of the control plane (management API and CLI): `limit` items,
 * 1–MAX_PAGE_SIZE (default DEFAULT_PAGE_SIZE), after `cursor`, the previous page's `next_cursor`.
 * Cursors are opaque to callers; `next_cursor` is null on the last page.
 */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;
/** Longest cursor accepted (a key cursor of 128 characters, any of them 4 UTF-8 bytes, is 683). */
export const MAX_CURSOR_LENGTH = 700;

/** A page of a list, as the management API sends it and the CLI prints it. */
export interface Page<T> {
  readonly items: T[];
  readonly next_cursor: string | null;
}

/** The page size asked for (default DEFAULT_PAGE_SIZE), else a 400 naming `limit`. */
export function pageSize(limit: number | undefined): number {
  const size = limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) throw new InvalidField('limit', `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  return size;
}

/** A time as the control plane shows it: seconds since the epoch as ISO 8601 (null when unset). */
export function isoOf(seconds: number | null | undefined): string | null {
  return seconds === undefined || seconds === null ? null : new Date(seconds * 1000).toISOString();
}

/** A cursor that is the last key of the page (a client_id, a username, a role name), base64url. */
export function encodeKeyCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** The key of a cursor made by encodeKeyCursor, if `valid` accepts it; else a 400 naming `cursor`. */
export function decodeKeyCursor(cursor: string, valid: (key: string) => boolean): string {
  const key = cursor.length <= MAX_CURSOR_LENGTH && /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (key === '' || !valid(key)) throw new InvalidField('cursor', 'is not a next_cursor of this list');
  return key;
}
