import type { Role } from '../../domain/role.js';
import type { Checked } from './client-entries.js';

/** A role entry checked: the domain Role's fields, without its source and times. */
export type RoleEntry = Pick<Role, 'name' | 'description' | 'scopes' | 'resources'>;

/**
 * config.yaml's role rules for the control plane (implemented with the same zod schema,
 * src/config/schema.ts roleSchema), so the management API and the CLI accept exactly what the
 * file would.
 */
export interface RoleEntryRules {
  /** A whole role entry in config.yaml's wire names: `name`, `description`, `scope`, `resources`. */
  check(entry: unknown): Checked<RoleEntry>;
  /** A stored role's wire form: what a PATCH merges into. */
  wireOf(role: Role): Record<string, unknown>;
}
