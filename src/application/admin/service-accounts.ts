import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Actor } from './changes.js';
import type { ClientListQuery, ClientView } from './client-views.js';
import type { ClientAdmin } from './clients.js';
import { AdminError, InvalidField } from './errors.js';
import type { Page } from './paging.js';

/** The algorithm of generated key pairs: ES256 (P-256), which FAPI 2.0 §5.4 allows too. */
export const SERVICE_ACCOUNT_ALG = 'ES256';

export type ServiceAccountAuth = 'private_key_jwt' | 'client_secret';

/** POST /service-accounts (the CLI's `service-account create`), wire names. */
export interface ServiceAccountInput {
  /** The client_id; or `name`, which then is the client_id and the client_name. */
  readonly client_id?: string;
  readonly name?: string;
  readonly scope: string;
  readonly resources?: readonly string[];
  readonly owner?: string;
  readonly description?: string;
  /** ISO 8601 date-time in the future: the account stops working then. */
  readonly expires_at?: string;
  /** private_key_jwt (default): a generated ES256 key pair; client_secret: a generated secret. */
  readonly auth?: ServiceAccountAuth;
  readonly roles?: readonly string[];
}

/** What a service needs for its first token; the private JWK or secret is shown this once and never stored. */
export interface ServiceAccountCreated {
  readonly client_id: string;
  readonly token_endpoint_auth_method: 'private_key_jwt' | 'client_secret_basic';
  readonly scope: string;
  readonly resources: readonly string[];
  readonly owner: string | null;
  readonly description: string | null;
  readonly expires_at: string | null;
  readonly issuer: string;
  readonly token_endpoint: string;
  /** private_key_jwt: the aud of the client assertion (draft-ietf-oauth-rfc7523bis: the issuer). */
  readonly assertion_audience?: string;
  readonly private_jwk?: JWK;
  readonly client_secret?: string;
}

const FIELDS = new Set(['client_id', 'name', 'scope', 'resources', 'owner', 'description', 'expires_at', 'auth', 'roles']);

/**
 * Service accounts: client_credentials clients for a service or an agent, made in one call with
 * their credential. They are API clients of kind `service_account` (ClientAdmin manages them
 * afterwards: disable, delete, rotate-secret, set-jwks).
 */
export class ServiceAccountAdmin {
  constructor(
    private readonly clients: ClientAdmin,
    private readonly endpoints: { readonly issuer: string; readonly tokenEndpoint: string },
  ) {}

  async create(actor: Actor, body: unknown): Promise<ServiceAccountCreated> {
    const input = checkInput(body);
    const clientId = input.client_id ?? input.name!;
    const secretAuth = input.auth === 'client_secret';
    const key = secretAuth ? undefined : await generateKey();
    const entry = {
      client_id: clientId,
      ...(input.name !== undefined ? { client_name: input.name } : {}),
      token_endpoint_auth_method: secretAuth ? 'client_secret_basic' : 'private_key_jwt',
      grant_types: ['client_credentials'],
      scope: input.scope,
      require_consent: false,
      ...(input.resources !== undefined ? { resources: input.resources } : {}),
      ...(key !== undefined ? { jwks: { keys: [key.publicJwk] } } : {}),
      ...(input.owner !== undefined ? { owner: input.owner } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.expires_at !== undefined ? { expires_at: input.expires_at } : {}),
      ...(input.roles !== undefined ? { roles: input.roles } : {}),
    };
    let created: ClientView & { client_secret?: string };
    try {
      created = await this.clients.create(actor, entry, { kind: 'service_account', event: 'service_account.created' });
    } catch (error) {
      // `name` stood for client_id: report the field the caller sent.
      if (error instanceof AdminError && error.field === 'client_id' && input.client_id === undefined) throw new InvalidField('name', error.message.replace(/^client_id: /, ''));
      throw error;
    }
    return {
      client_id: created.client_id,
      token_endpoint_auth_method: secretAuth ? 'client_secret_basic' : 'private_key_jwt',
      scope: created.scope as string,
      resources: created.resources as string[],
      owner: created.owner,
      description: created.description,
      expires_at: created.expires_at,
      issuer: this.endpoints.issuer,
      token_endpoint: this.endpoints.tokenEndpoint,
      ...(key !== undefined ? { assertion_audience: this.endpoints.issuer, private_jwk: key.privateJwk } : { client_secret: created.client_secret! }),
    };
  }

  /** The service accounts (filters as for clients). */
  async list(query: Omit<ClientListQuery, 'kind'> = {}): Promise<Page<ClientView>> {
    return this.clients.list({ ...query, kind: 'service_account' });
  }
}

/** An ES256 key pair: kid is the RFC 7638 thumbprint; the private half leaves in the answer only. */
async function generateKey(): Promise<{ publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(SERVICE_ACCOUNT_ALG, { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const publicJwk: JWK = { kty, crv, x, y };
  const kid = await calculateJwkThumbprint(publicJwk);
  const described = { ...publicJwk, kid, alg: SERVICE_ACCOUNT_ALG, use: 'sig' };
  return { publicJwk: described, privateJwk: { ...described, d: (await exportJWK(privateKey)).d! } };
}

/** The body's own fields (the client rules check the rest: scope, resources, dates, lengths). */
function checkInput(body: unknown): ServiceAccountInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidField('body', 'must be a JSON object');
  const input = body as Record<string, unknown>;
  for (const name of Object.keys(input)) if (!FIELDS.has(name)) throw new InvalidField(name, 'is not a known field');
  if (input.client_id === undefined && input.name === undefined) throw new InvalidField('client_id', 'or name is required');
  if (input.client_id !== undefined && typeof input.client_id !== 'string') throw new InvalidField('client_id', 'must be a string');
  if (input.name !== undefined && typeof input.name !== 'string') throw new InvalidField('name', 'must be a string');
  if (typeof input.scope !== 'string') throw new InvalidField('scope', 'is required: the scopes the account may ask for');
  if (input.auth !== undefined && input.auth !== 'private_key_jwt' && input.auth !== 'client_secret') {
    throw new InvalidField('auth', 'must be private_key_jwt or client_secret');
  }
  return input as unknown as ServiceAccountInput;
}
