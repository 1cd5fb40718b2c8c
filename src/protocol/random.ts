import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A URL-safe random handle with `bytes` × 8 bits of entropy (256 bits by default). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 of a UTF-8 string, base64url: how handles (codes, sessions, secrets) are stored. */
export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** Compares two strings in time independent of where they differ (hashes first, so lengths leak nothing). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
