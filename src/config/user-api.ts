import { z } from 'zod';
import type { Checked } from '../application/ports/client-entries.js';
import type { NewUserEntry, UserEntryRules } from '../application/admin/users.js';
import { firstIssue } from './client-api.js';
import { userSchema } from './schema.js';

/**
 * The management API's user inputs, derived from config.yaml's user schema (userSchema): a user
 * made through the API is one the file could declare. Roles are given with the roles resource.
 */

const password = userSchema.shape.password;
const claims = userSchema.shape.claims;

/** POST /users: config.yaml's entry; without password, one is generated and returned once. */
export const userCreateBody = z.strictObject({
  username: userSchema.shape.username.describe('Unique login name'),
  password: password.optional().describe('Without one, a random password is generated and returned once'),
  claims,
});

/** PATCH /users/{id}: RFC 7396 merge patch of the claims (a member set to null is removed). */
export const userPatchBody = z.strictObject({
  claims: z
    .record(z.string(), z.unknown())
    .describe('Claims to set; a claim set to null is removed (RFC 7396); the result is checked as config.yaml checks claims'),
});

/** POST /users/{id}/password */
export const passwordBody = z.strictObject({
  password: password.optional().describe('Without one, a random password is generated and returned once'),
});

/** UserEntryRules with config.yaml's zod schema. */
export const userEntryRules: UserEntryRules = {
  check(entry: unknown): Checked<NewUserEntry> {
    const parsed = userCreateBody.safeParse(entry);
    return parsed.success ? { ok: true, value: parsed.data } : firstIssue(parsed.error);
  },
  checkClaims(value: unknown): Checked<Record<string, unknown>> {
    const parsed = claims.safeParse(value);
    return parsed.success ? { ok: true, value: parsed.data } : prefixed('claims', firstIssue(parsed.error));
  },
  checkPassword(value: unknown): Checked<string> {
    const parsed = password.safeParse(value);
    return parsed.success ? { ok: true, value: parsed.data } : prefixed('password', firstIssue(parsed.error));
  },
};

function prefixed(field: string, failure: { ok: false; field: string; message: string }): { ok: false; field: string; message: string } {
  return { ...failure, field: failure.field === '' ? field : `${field}.${failure.field}` };
}
