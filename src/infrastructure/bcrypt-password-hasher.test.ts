import bcrypt from 'bcrypt';
import { describe, expect, it } from 'vitest';
import { TemporarilyUnavailable } from '../protocol/errors.js';
import { BcryptPasswordHasher } from './bcrypt-password-hasher.js';

describe('BcryptPasswordHasher', () => {
  it('hashes with the configured cost, and verifies', async () => {
    const hasher = new BcryptPasswordHasher(5, 1);
    const hash = await hasher.hash('correct horse');
    expect(bcrypt.getRounds(hash)).toBe(5);
    expect(await hasher.verify('correct horse', hash)).toBe(true);
    expect(await hasher.verify('wrong horse', hash)).toBe(false);
  });

  it('refuses with temporarily_unavailable when more hashes wait than it allows, and nothing is lost', async () => {
    const hasher = new BcryptPasswordHasher(4, 1, 2);
    const hash = await hasher.hash('pw');
    // One runs, two wait, the fourth is refused.
    const checks = ['pw', 'pw', 'other', 'pw'].map((password) => hasher.verify(password, hash));
    const results = await Promise.allSettled(checks);
    expect(results.slice(0, 3).map((r) => r.status === 'fulfilled' && r.value)).toEqual([true, true, false]);
    const refused = results[3]!;
    expect(refused.status).toBe('rejected');
    expect(refused.status === 'rejected' && refused.reason).toBeInstanceOf(TemporarilyUnavailable);
    expect(refused.status === 'rejected' && (refused.reason as TemporarilyUnavailable).error).toBe('temporarily_unavailable');
    expect(await hasher.verify('pw', hash)).toBe(true);
  });

  it('lets one key (an IP) wait only its share of the queue, while another key still gets in', async () => {
    const hasher = new BcryptPasswordHasher(4, 1, 10, 2);
    const hash = await hasher.hash('pw');
    // For ip-a: one runs, two wait, two are refused though the queue has room for ten.
    const flood = Array.from({ length: 5 }, () => hasher.verify('pw', hash, 'ip-a'));
    const other = hasher.verify('pw', hash, 'ip-b');
    const results = await Promise.allSettled(flood);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    for (const refused of results.slice(3)) {
      expect(refused.status === 'rejected' && refused.reason).toBeInstanceOf(TemporarilyUnavailable);
      expect(refused.status === 'rejected' && (refused.reason as TemporarilyUnavailable).description).toBe('too many sign-ins at once; retry shortly');
    }
    expect(await other).toBe(true);
    expect(await hasher.verify('pw', hash, 'ip-a')).toBe(true);
  });
});
