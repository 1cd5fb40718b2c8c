import { describe, expect, it } from 'vitest';
import { BcryptPasswordHasher } from '../../infrastructure/bcrypt-password-hasher.js';
import { TemporarilyUnavailable } from '../../protocol/errors.js';
import { StandInHash } from './stand-in-hash.js';

describe('StandInHash', () => {
  it('is made once and then reused', async () => {
    const standIn = new StandInHash(new BcryptPasswordHasher(4, 1));
    const first = await standIn.get();
    expect(first).toMatch(/^\$2b\$04\$/);
    expect(await standIn.get()).toBe(first);
  });

  it('does not keep a refusal: the next call hashes again', async () => {
    // One hash at a time, none waiting: while one runs, the stand-in's is refused.
    const passwords = new BcryptPasswordHasher(4, 1, 0);
    const standIn = new StandInHash(passwords);
    const busy = passwords.hash('someone else');
    await expect(standIn.get()).rejects.toBeInstanceOf(TemporarilyUnavailable);
    await busy;
    expect(await standIn.get()).toMatch(/^\$2b\$04\$/);
  });
});
