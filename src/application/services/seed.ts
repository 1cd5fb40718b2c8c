import { randomUUID } from 'node:crypto';
import type { Client } from '../../domain/client.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { ClientRepository, UpsertOutcome, UserRepository } from '../ports/repositories.js';

export interface UserSeed {
  readonly username: string;
  readonly password: string;
  readonly claims: Record<string, unknown>;
}

/** How many were created, updated, unchanged, enabled again, and disabled (dropped from the file). */
export type SeedCounts = Record<UpsertOutcome | 'disabled', number>;

export interface SeedReport {
  readonly clients: SeedCounts;
  readonly users: SeedCounts;
  /** Who was disabled: client_ids and user ids (`sub`), for the log and the audit trail. */
  readonly disabled: { readonly clients: readonly string[]; readonly users: readonly string[] };
}

/** The rows config.yaml owns; rows of another source (the management API's) the file never touches. */
const SOURCE = 'config';

/** Users seeded at once; the hasher runs their hashes as its threads allow. */
const HASH_CONCURRENCY = 4;

/**
 * Upserts the clients and users declared in config.yaml (contract: idempotent — a restart
 * with the same file changes nothing). A user's password is re-hashed only when it changed.
 * Contract: the file owns what it declares, so a client or user it declared before and no
 * longer does is disabled (its row stays: audit, stable `sub`); declared again, it is enabled.
 */
export async function seed(
  input: { clients: readonly Client[]; users: readonly UserSeed[] },
  deps: { clients: ClientRepository; users: UserRepository; passwords: PasswordHasher },
): Promise<SeedReport> {
  const counts = (): SeedCounts => ({ created: 0, updated: 0, unchanged: 0, enabled: 0, disabled: 0 });
  const report = { clients: counts(), users: counts() };
  for (const [i, client] of input.clients.entries()) {
    const outcome = await deps.clients.upsert(client, SOURCE);
    // Refusing to start is the safe choice: taking the row over would hand the API client's name
    // to whoever edits the file, and keeping it silently would run a client the file does not describe.
    if (outcome === 'taken') {
      throw new Error(
        `config.yaml clients[${i}].client_id: "${client.clientId}" is already a client made through the management API; ` +
          `rename it in config.yaml, or delete the API client first (trusty clients delete ${client.clientId})`,
      );
    }
    report.clients[outcome]++;
  }
  const queue = [...input.users.entries()];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [i, user] = next;
      // As for clients: an API user's username is not the file's to take (nor its password to check).
      const taken = () => {
        queue.length = 0; // the other workers stop: the start fails
        return new Error(`config.yaml users[${i}].username: "${user.username}" is already a user made through the management API; rename it in config.yaml`);
      };
      if ((await deps.users.findRecordByUsername(user.username))?.source === 'api') throw taken();
      const existing = await deps.users.findByUsername(user.username, { includeDisabled: true });
      const keep = existing !== undefined && (await deps.passwords.verify(user.password, existing.passwordHash));
      const passwordHash = keep ? existing.passwordHash : await deps.passwords.hash(user.password);
      const outcome = await deps.users.upsert({ username: user.username, passwordHash, claims: user.claims }, randomUUID(), SOURCE);
      if (outcome === 'taken') throw taken();
      report.users[outcome]++;
    }
  };
  await Promise.all(Array.from({ length: HASH_CONCURRENCY }, worker));
  const clients = await deps.clients.disableAllExcept(SOURCE, input.clients.map((c) => c.clientId));
  const users = await deps.users.disableAllExcept(SOURCE, input.users.map((u) => u.username));
  report.clients.disabled = clients.length;
  report.users.disabled = users.length;
  return { ...report, disabled: { clients, users } };
}
