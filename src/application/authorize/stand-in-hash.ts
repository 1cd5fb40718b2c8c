import { randomToken } from '../../protocol/random.js';
import type { PasswordHasher } from '../ports/password-hasher.js';

/**
 * The hash of a random password, checked for a username that does not exist so that it costs
 * as much as a wrong password. Made once, on first need; an attempt the hasher refused (too
 * many sign-ins at once) is not kept, so the next unknown username tries again.
 */
export class StandInHash {
  private hash: Promise<string> | undefined;

  constructor(private readonly passwords: PasswordHasher) {}

  get(): Promise<string> {
    this.hash ??= this.passwords.hash(randomToken()).catch((error: unknown) => {
      this.hash = undefined;
      throw error;
    });
    return this.hash;
  }
}
