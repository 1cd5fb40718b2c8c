import { randomUUID } from 'node:crypto';
import type { Client } from '../../domain/client.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { ClientRepository, UserRepository } from '../ports/repositories.js';

export interface UserSeed {
  readonly username: string;
  readonly password: string;
  readonly claims: Record<string, unknown>;
}

export interface SeedReport {
  readonly clients: Record<'created' | 'updated' | 'unchanged', number>;
  readonly users: Record<'created' | 'updated' | 'unchanged', number>;
}

/** Users seeded at once; the hasher runs their hashes as its threads allow. */
const HASH_CONCURRENCY = 4;

/**
 * Upserts the clients and users declared in config.yaml (contract: idempotent — a restart
 * with the same file changes nothing). A user's password is re-hashed only when it changed.
 */
export async function seed(
  input: { clients: readonly Client[]; users: readonly UserSeed[] },
  deps: { clients: ClientRepository; users: UserRepository; passwords: PasswordHasher },
): Promise<SeedReport> {
  const report: SeedReport = {
    clients: { created: 0, updated: 0, unchanged: 0 },
    users: { created: 0, updated: 0, unchanged: 0 },
  };
  for (const client of input.clients) {
    report.clients[await deps.clients.upsert(client)]++;
  }
  const queue = [...input.users];
  const worker = async () => {
    for (let user = queue.shift(); user !== undefined; user = queue.shift()) {
      const existing = await deps.users.findByUsername(user.username);
      const keep = existing !== undefined && (await deps.passwords.verify(user.password, existing.passwordHash));
      const passwordHash = keep ? existing.passwordHash : await deps.passwords.hash(user.password);
      report.users[await deps.users.upsert({ username: user.username, passwordHash, claims: user.claims }, randomUUID())]++;
    }
  };
  await Promise.all(Array.from({ length: HASH_CONCURRENCY }, worker));
  return report;
}
