import { z } from 'zod';
import { MAX_ROLE_DESCRIPTION, type Role } from '../domain/role.js';
import { parseScope } from '../domain/scope.js';
import { roleSchema, type RoleConfig } from './schema.js';

/** A role entry of config.yaml (or of a management API body, same wire names) → the domain Role. */
export function roleFromConfig(entry: RoleConfig, source: Role['source'] = 'config'): Role {
  return {
    name: entry.name,
    description: entry.description,
    scopes: parseScope(entry.scope) ?? [],
    resources: [...new Set(entry.resources)],
    source,
  };
}

/** A change to a role (PATCH, `trusty roles update`): the members of a role entry, none defaulted; null removes the description. */
export const roleChangeSchema = z.strictObject({
  description: z.string().max(MAX_ROLE_DESCRIPTION).nullable().optional().describe('null removes it'),
  scope: roleSchema.shape.scope.unwrap().optional(),
  resources: roleSchema.shape.resources.unwrap().optional(),
});

/** A checked change → what RoleAdmin.update takes. */
export function roleChangeFromWire(change: z.output<typeof roleChangeSchema>) {
  return {
    description: change.description,
    scopes: change.scope === undefined ? undefined : (parseScope(change.scope) ?? []),
    resources: change.resources,
  };
}
