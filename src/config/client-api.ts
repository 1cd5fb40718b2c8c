import { z } from 'zod';
import type { Checked, ClientEntry, ClientEntryRules } from '../application/ports/client-entries.js';
import { SECRET_GRACE_DEFAULT, SECRET_GRACE_MAX } from '../domain/client.js';
import { clientFromConfig, clientToConfig } from './to-domain.js';
import { clientRules, clientShape, jwk } from './schema.js';

/**
 * The management API's client inputs, derived from config.yaml's client schema (clientShape) and
 * checked with its rules (clientRules): a client made through the API is one the file could declare.
 */


/** The control plane's own fields, beside config.yaml's. */
export const adminFields = {
  owner: z.string().min(1).max(200).optional().describe('Who answers for the client (a team, a person)'),
  description: z.string().max(1000).optional().describe('What the client is for'),
  expires_at: z.iso.datetime({ offset: true }).optional().describe('When the client stops working (ISO 8601 date-time, in the future)'),
};

/**
 * POST /clients: a config.yaml entry plus the admin fields. client_secret may be omitted for
 * client_secret_* methods (one is generated and returned once); the rules between fields run in
 * the service, once the secret is known.
 */
export const clientCreateBody = clientShape.extend(adminFields);

/** PATCH /clients/{id} (RFC 7396 merge patch): any field but client_id and client_secret; null removes one. */
export const clientPatchBody = z.strictObject({
  ...Object.fromEntries(
    Object.entries(clientShape.shape)
      .filter(([name]) => name !== 'client_id' && name !== 'client_secret')
      .map(([name, field]) => [name, withoutDefault(field).nullable().optional()]),
  ),
  ...Object.fromEntries(Object.entries(adminFields).map(([name, field]) => [name, field.unwrap().nullable().optional()])),
  client_secret: z.never({ error: 'is changed with POST /clients/{id}/secret' }).optional(),
});

/** PUT /clients/{id}/jwks: the new key set, replacing the old one (and any jwks_uri). */
export const jwksBody = clientShape.shape.jwks.unwrap();

/** POST /clients/{id}/jwks/keys: one public key, added beside the others. */
export const jwkBody = jwk;

/** POST /clients/{id}/secret */
export const rotateSecretBody = z.strictObject({
  grace_seconds: z
    .number()
    .int()
    .min(0)
    .max(SECRET_GRACE_MAX)
    .default(SECRET_GRACE_DEFAULT)
    .describe(`How long the previous secret stays valid, in seconds (0–${SECRET_GRACE_MAX}, default ${SECRET_GRACE_DEFAULT}: 24 h)`),
});

const entrySchema = clientShape.extend(adminFields).superRefine((entry, ctx) => clientRules(entry, ctx));

/** ClientEntryRules with the zod schema of config.yaml. */
export const clientEntryRules: ClientEntryRules = {
  check(entry: unknown): Checked<ClientEntry> {
    const parsed = entrySchema.safeParse(entry);
    if (!parsed.success) return firstIssue(parsed.error);
    const { owner, description, expires_at, ...config } = parsed.data;
    return {
      ok: true,
      value: {
        client: clientFromConfig(config),
        owner,
        description,
        expiresAt: expires_at === undefined ? undefined : Math.floor(Date.parse(expires_at) / 1000),
      },
    };
  },
  wireOf: (client) => clientToConfig(client),
  checkKey(key: unknown): Checked<Record<string, unknown>> {
    const parsed = jwk.safeParse(key);
    return parsed.success ? { ok: true, value: parsed.data } : firstIssue(parsed.error);
  },
};

/** The first issue of a zod error as a dotted field (`redirect_uris.0`) and its message. */
export function firstIssue(error: z.ZodError): { ok: false; field: string; message: string } {
  const issue = error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const message = issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message;
  return { ok: false, field: path.map(String).join('.'), message };
}

function withoutDefault(field: z.ZodType): z.ZodType {
  return field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
}

/** POST /service-accounts: a client_credentials client made with its credential in one call. */
export const serviceAccountBody = z
  .strictObject({
    client_id: clientShape.shape.client_id.optional(),
    name: clientShape.shape.client_id.optional().describe('Instead of client_id: the client_id and the client_name'),
    scope: clientShape.shape.scope.unwrap().describe('The scopes the account may ask for'),
    resources: clientShape.shape.resources.unwrap().optional(),
    ...adminFields,
    auth: z
      .enum(['private_key_jwt', 'client_secret'])
      .default('private_key_jwt')
      .describe('private_key_jwt (default): a generated ES256 key pair, the private JWK returned once; client_secret: a generated secret, returned once'),
    roles: clientShape.shape.roles.unwrap().optional().describe('Roles given to the account'),
  })
  .refine((body) => body.client_id !== undefined || body.name !== undefined, { path: ['client_id'], message: 'or name is required' });
