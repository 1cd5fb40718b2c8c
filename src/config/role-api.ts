import { z } from 'zod';
import type { Checked } from '../application/ports/client-entries.js';
import type { RoleEntry, RoleEntryRules } from '../application/ports/role-entries.js';
import type { Role } from '../domain/role.js';
import { parseScope } from '../domain/scope.js';
import { firstIssue } from './client-api.js';
import { roleSchema, type RoleConfig } from './schema.js';

/**
 * The management API's role inputs, derived from config.yaml's role schema (roleSchema): a role
 * made through the API or the CLI is one the file could declare.
 */

/** A role entry of config.yaml (or a checked API body, same wire names) → the domain Role. */
export function roleFromConfig(entry: RoleConfig, source: Role['source'] = 'config'): Role {
  return { ...entryOf(entry), source };
}

/** PATCH /roles/{name} (RFC 7396 merge patch): the members of a role entry, none defaulted; null removes the description. */
export const roleChangeSchema = z.strictObject({
  description: roleSchema.shape.description.unwrap().nullable().optional().describe('null removes it'),
  scope: roleSchema.shape.scope.unwrap().optional(),
  resources: roleSchema.shape.resources.unwrap().optional(),
});

/** RoleEntryRules with config.yaml's zod schema. */
export const roleEntryRules: RoleEntryRules = {
  check(entry: unknown): Checked<RoleEntry> {
    const parsed = roleSchema.safeParse(entry);
    return parsed.success ? { ok: true, value: entryOf(parsed.data) } : firstIssue(parsed.error);
  },
  wireOf: (role) => ({
    name: role.name,
    ...(role.description !== undefined ? { description: role.description } : {}),
    scope: role.scopes.join(' '),
    resources: [...role.resources],
  }),
};

function entryOf(entry: RoleConfig): RoleEntry {
  return {
    name: entry.name,
    description: entry.description,
    // parseScope de-duplicates; the schema has checked every token (RFC 6749 §3.3).
    scopes: parseScope(entry.scope) ?? [],
    resources: [...new Set(entry.resources)],
  };
}
