import { SECRET_GRACE_DEFAULT, SECRET_GRACE_MAX, usesSecret, type Client } from '../../domain/client.js';
import { grantsControlPlaneScope, MAX_ROLES_PER_PRINCIPAL } from '../../domain/role.js';
import { randomToken, sha256 } from '../../protocol/random.js';
import type { ClientEntry, ClientEntryRules } from '../ports/client-entries.js';
import type { Clock } from '../ports/clock.js';
import type { AuditLog, ClientKind, ClientRecord, ClientStore, ClientWrite } from '../ports/repositories.js';
import { recordChange, type Actor } from './changes.js';
import { clientView, decodeClientCursor, editableOf, encodeClientCursor, type ClientListQuery, type ClientView, type ClientWithSecret } from './client-views.js';
import { Conflict, Forbidden, InvalidField, NotFound } from './errors.js';
import { isoOf, pageSize, type Page } from './paging.js';

export type { ClientListQuery, ClientView, ClientWithSecret } from './client-views.js';

/** Longest client_id prefix filter (a client_id has at most 128 characters). */
const PREFIX_MAX = 128;
/** Keys a client's jwks may hold (config.yaml's limit). */
export const JWKS_MAX_KEYS = 20;
/** Generated secrets: 32 random bytes, base64url (256 bits). */
const SECRET_BYTES = 32;

/** The roles a create or update body may name (`roles`), and their assignment (RoleAdmin). */
export interface ClientRoles {
  /** The scopes of the role of that name; undefined when there is none (a read from memory). */
  roleScopes(name: string): readonly string[] | undefined;
  /** Replaces the API-given roles of the client (RoleAdmin.setClientRoles; config.yaml's stay). */
  setClientRoles(actor: Actor, clientId: string, roles: readonly string[]): Promise<unknown>;
}

export interface ClientAdminDeps {
  readonly store: ClientStore;
  readonly rules: ClientEntryRules;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly roles?: ClientRoles | undefined;
  /**
   * The scopes the client holds now, its roles' included (ControlPlane.scopesOf): a role granting
   * trusty:admin makes its holder an admin client. Default: the client's own scope.
   */
  readonly scopesOf?: ((client: Client) => readonly string[]) | undefined;
}

/** Roles a body names, checked to exist, and the scopes they give. */
interface WantedRoles {
  readonly names: readonly string[];
  readonly scopes: readonly string[];
}

/**
 * Clients through the control plane (the management API and the CLI). Rows from config.yaml
 * may be read, not changed: the file owns them. Every change is audited with before and after
 * (never a secret), and recorded as a control change so every process drops its client cache.
 * A client holding a `trusty:` scope, its own or through a role, is written by a trusty:admin
 * actor only, else trusty:clients:write would reach the whole control plane (by creating such a
 * client, or by taking over an existing one: a new secret, a key of its own). Every refusal comes
 * before anything is written or audited.
 */
export class ClientAdmin {
  constructor(private readonly deps: ClientAdminDeps) {}

  async list(query: ClientListQuery = {}): Promise<Page<ClientView>> {
    const limit = pageSize(query.limit);
    if (query.clientIdPrefix !== undefined && query.clientIdPrefix.length > PREFIX_MAX) {
      throw new InvalidField('client_id_prefix', `must be at most ${PREFIX_MAX} characters`);
    }
    const records = await this.deps.store.page({
      limit: limit + 1,
      after: query.cursor === undefined ? undefined : decodeClientCursor(query.cursor),
      source: query.source,
      enabled: query.enabled,
      grantType: query.grantType,
      idPrefix: query.clientIdPrefix,
      kind: query.kind,
    });
    const items = records.slice(0, limit);
    const more = records.length > limit;
    return { items: items.map((record) => this.view(record)), next_cursor: more ? encodeClientCursor(items.at(-1)!.client.clientId) : null };
  }

  /** Any client, disabled ones too. */
  async get(clientId: string): Promise<ClientView> {
    return this.view(await this.find(clientId));
  }

  /**
   * A new client owned by the API. A client_secret_* client may omit client_secret: a
   * generated one is returned once. Conflict when the client_id exists (whatever its source or state).
   */
  async create(actor: Actor, entry: unknown, options: { kind?: ClientKind; event?: string } = {}): Promise<ClientWithSecret> {
    let input = asObject(entry);
    let secret: string | undefined;
    if (usesSecret((input.token_endpoint_auth_method ?? 'client_secret_basic') as Client['tokenEndpointAuthMethod']) && input.client_secret === undefined) {
      secret = randomToken(SECRET_BYTES);
      input = { ...input, client_secret: secret };
    }
    const checked = this.check(input);
    const roles = this.wantedRoles(input.roles);
    this.mayHold(actor, checked.client, roles);
    this.inFuture(checked.expiresAt);
    const write: ClientWrite = {
      client: { ...checked.client, expiresAt: checked.expiresAt },
      kind: options.kind ?? 'client',
      enabled: true,
      owner: checked.owner,
      description: checked.description,
    };
    const clientId = checked.client.clientId;
    if (!(await this.deps.store.insert(write, 'api'))) throw new Conflict(`client ${clientId} already exists`);
    if (roles !== undefined && roles.names.length > 0) {
      try {
        await this.deps.roles!.setClientRoles(actor, clientId, roles.names);
      } catch (error) {
        // A role deleted since it was checked: the client is not left half made.
        await this.deps.store.delete(clientId, () => undefined);
        throw error;
      }
    }
    const view = this.view(await this.find(clientId));
    recordChange(this.deps.audit, actor, options.event ?? 'client.created', { clientId }, undefined, view);
    return secret === undefined ? view : { ...view, client_secret: secret };
  }

  /**
   * RFC 7396 merge patch on the client's wire form (null removes a field), then the whole entry
   * is checked again with config.yaml's rules. The secret is not changed here (rotateSecret);
   * a client switched to a client_secret_* method without one gets a generated secret, returned once.
   */
  async update(actor: Actor, clientId: string, patch: unknown): Promise<ClientWithSecret> {
    const body = asObject(patch);
    if (body.client_secret !== undefined) throw new InvalidField('client_secret', 'is changed with POST /clients/{id}/secret (trusty clients rotate-secret)');
    if (body.client_id !== undefined && body.client_id !== clientId) throw new InvalidField('client_id', 'cannot be changed (create a new client)');
    // Checked first: a refused request changes nothing (null: the API gives none).
    const roles = this.wantedRoles(body.roles === null ? [] : body.roles);
    let secret: string | undefined;
    const after = await this.rewrite(actor, clientId, 'client.updated', (wire) => mergePatch(wire, body), {
      // An expired client may be changed without being given a new date; a new date must be ahead.
      newExpiry: body.expires_at !== undefined && body.expires_at !== null,
      generated: (generated) => (secret = generated),
      roles,
    });
    if (roles !== undefined) await this.deps.roles!.setClientRoles(actor, clientId, roles.names);
    return secret === undefined ? after : { ...after, client_secret: secret };
  }

  /** Deletes the row and ends its grants; the audit log keeps its history. */
  async delete(actor: Actor, clientId: string): Promise<void> {
    const removed = await this.deps.store.delete(clientId, (current) => this.writable(actor, current));
    if (removed === undefined) throw new NotFound(`client ${clientId}`);
    recordChange(this.deps.audit, actor, 'client.deleted', { clientId }, this.view(removed), undefined);
  }

  /** Disables the client (it no longer authenticates, its tokens die) and ends its grants, like the seed does. */
  async disable(actor: Actor, clientId: string): Promise<ClientView> {
    return this.setEnabled(actor, clientId, false);
  }

  /** Enables it again; tokens issued before stay dead (their iat is before enabledSince). */
  async enable(actor: Actor, clientId: string): Promise<ClientView> {
    return this.setEnabled(actor, clientId, true);
  }

  /**
   * A new secret, returned once; the previous one stays valid for `graceSeconds` (default 24 h,
   * 0 ends it at once) so that the client's instances can switch without an outage. Rotating
   * again within the grace period drops the older previous secret.
   */
  async rotateSecret(actor: Actor, clientId: string, graceSeconds: number = SECRET_GRACE_DEFAULT): Promise<{ client_id: string; client_secret: string; previous_secret_expires_at: string | null }> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > SECRET_GRACE_MAX) {
      throw new InvalidField('grace_seconds', `must be an integer from 0 to ${SECRET_GRACE_MAX}`);
    }
    const secret = randomToken(SECRET_BYTES);
    const now = this.deps.clock.now();
    const result = await this.deps.store.modify(clientId, (current) => {
      this.writable(actor, current);
      const method = current.client.tokenEndpointAuthMethod;
      if (!usesSecret(method)) throw new Conflict(`client ${clientId} authenticates with ${method}: it has no secret to rotate`);
      const previous = current.client.secretDigest;
      return {
        ...current,
        client: {
          ...current.client,
          secretDigest: sha256(secret),
          previousSecret: graceSeconds > 0 && previous !== undefined ? { digest: previous, expiresAt: now + graceSeconds } : undefined,
        },
      };
    });
    if (result === undefined) throw new NotFound(`client ${clientId}`);
    const previousUntil = isoOf(result.after.client.previousSecret?.expiresAt);
    recordChange(this.deps.audit, actor, 'client.secret_rotated', { clientId }, undefined, { grace_seconds: graceSeconds, previous_secret_expires_at: previousUntil });
    return { client_id: clientId, client_secret: secret, previous_secret_expires_at: previousUntil };
  }

  /** Replaces the client's key set (and any jwks_uri) with `jwks` ({ keys: [...] }, public keys only). */
  async replaceJwks(actor: Actor, clientId: string, jwks: unknown): Promise<ClientView> {
    return this.rewrite(actor, clientId, 'client.jwks_changed', (wire) => {
      const { jwks_uri: _uri, ...rest } = wire;
      return { ...rest, jwks };
    });
  }

  /** Adds one public key beside the registered ones (key rollover: both verify until the old one is removed). */
  async addKey(actor: Actor, clientId: string, key: unknown): Promise<ClientView> {
    const checked = this.deps.rules.checkKey(key);
    if (!checked.ok) throw new InvalidField(checked.field === '' ? 'key' : checked.field, checked.message);
    const kid = checked.value.kid;
    return this.rewrite(actor, clientId, 'client.jwks_changed', (wire) => {
      if (wire.jwks_uri !== undefined) throw new Conflict(`client ${clientId} publishes its keys at its jwks_uri: add the key there`);
      const keys = ((wire.jwks as { keys?: Record<string, unknown>[] } | undefined)?.keys ?? []);
      if (keys.length >= JWKS_MAX_KEYS) throw new InvalidField('jwks.keys', `holds ${JWKS_MAX_KEYS} keys already: replace the set with PUT /clients/{id}/jwks`);
      if (kid !== undefined && keys.some((existing) => existing.kid === kid)) throw new Conflict(`client ${clientId} already has a key with kid ${String(kid)}`);
      return { ...wire, jwks: { keys: [...keys, checked.value] } };
    });
  }

  private view(record: ClientRecord): ClientView {
    return clientView(record, this.deps.rules);
  }

  /**
   * Reads the client, edits its wire form, checks the whole entry again and writes it, in one
   * transaction; the secret and its previous one are kept (`generated` gets a new one when the
   * edit moved the client to a client_secret_* method without one). A new expiry must be ahead.
   */
  private async rewrite(
    actor: Actor,
    clientId: string,
    event: string,
    edit: (wire: Record<string, unknown>) => Record<string, unknown>,
    options: { newExpiry?: boolean; generated?: (secret: string) => void; roles?: WantedRoles | undefined } = {},
  ): Promise<ClientView> {
    let changed = false;
    const result = await this.deps.store.modify(clientId, (current) => {
      this.writable(actor, current);
      const wire = edit(this.editable(current));
      const method = (wire.token_endpoint_auth_method ?? 'client_secret_basic') as Client['tokenEndpointAuthMethod'];
      const keepsSecret = usesSecret(method) && current.client.secretDigest !== undefined;
      const secret = usesSecret(method) && !keepsSecret ? randomToken(SECRET_BYTES) : undefined;
      // The stored secret stands in for client_secret: the rules check only that there is one.
      const checked = this.check(usesSecret(method) ? { ...wire, client_secret: secret ?? 'stored secret' } : wire);
      this.mayHold(actor, checked.client, options.roles);
      if (options.newExpiry === true) this.inFuture(checked.expiresAt);
      const next: ClientRecord = {
        ...current,
        client: {
          ...checked.client,
          secretDigest: keepsSecret ? current.client.secretDigest : checked.client.secretDigest,
          previousSecret: keepsSecret ? current.client.previousSecret : undefined,
          expiresAt: checked.expiresAt,
        },
        owner: checked.owner,
        description: checked.description,
      };
      if (secret === undefined && JSON.stringify(this.editable(next)) === JSON.stringify(this.editable(current))) return undefined;
      changed = true;
      if (secret !== undefined) options.generated?.(secret);
      return next;
    });
    if (result === undefined) throw new NotFound(`client ${clientId}`);
    const after = this.view(result.after);
    if (changed) recordChange(this.deps.audit, actor, event, { clientId }, this.view(result.before), after);
    return after;
  }

  private async setEnabled(actor: Actor, clientId: string, enabled: boolean): Promise<ClientView> {
    let changed = false;
    const result = await this.deps.store.modify(clientId, (current) => {
      this.writable(actor, current);
      if (current.enabled === enabled) return undefined;
      changed = true;
      return { ...current, enabled };
    });
    if (result === undefined) throw new NotFound(`client ${clientId}`);
    const after = this.view(result.after);
    if (changed) recordChange(this.deps.audit, actor, enabled ? 'client.enabled' : 'client.disabled', { clientId }, this.view(result.before), after);
    return after;
  }

  private editable(record: ClientRecord): Record<string, unknown> {
    return editableOf(record, this.deps.rules);
  }

  private check(entry: Record<string, unknown>): ClientEntry {
    const checked = this.deps.rules.check(entry);
    if (!checked.ok) throw new InvalidField(checked.field, checked.message);
    return checked.value;
  }

  private async find(clientId: string): Promise<ClientRecord> {
    const record = await this.deps.store.get(clientId);
    if (record === undefined) throw new NotFound(`client ${clientId}`);
    return record;
  }

  /**
   * config.yaml owns its clients (issue 13 item 2); a client holding `trusty:` scopes, its own or
   * its roles', is trusty:admin's: whoever writes it (a new secret, a key) may act as an admin.
   */
  private writable(actor: Actor, record: ClientRecord): void {
    if (record.source === 'config') throw new Conflict(`client ${record.client.clientId} is declared in config.yaml; change it there`);
    this.mayHold(actor, record.client);
  }

  /** Whether `actor` may make `client` what it will be: its scopes, those of its roles now, and of `roles` given to it. */
  private mayHold(actor: Actor, client: Client, roles?: WantedRoles): void {
    if (actor.admin) return;
    const scopesOf = this.deps.scopesOf ?? ((held: Client) => held.scopes);
    if (grantsControlPlaneScope({ scopes: scopesOf(client) }) || grantsControlPlaneScope({ scopes: roles?.scopes ?? [] })) {
      throw new Forbidden(`client ${client.clientId} holds trusty: scopes: only a trusty:admin caller may create or change it`);
    }
  }

  /**
   * The roles a body names (undefined: none named), each checked to exist before anything is
   * written (config.yaml's rules check the names' form too, with the whole entry).
   */
  private wantedRoles(roles: unknown): WantedRoles | undefined {
    if (roles === undefined) return undefined;
    const known = this.deps.roles;
    if (known === undefined) {
      if (Array.isArray(roles) && roles.length === 0) return undefined;
      throw new InvalidField('roles', 'cannot be given here: use the roles API');
    }
    if (!Array.isArray(roles)) throw new InvalidField('roles', 'must be an array of role names');
    if (roles.length > MAX_ROLES_PER_PRINCIPAL) throw new InvalidField('roles', `must name at most ${MAX_ROLES_PER_PRINCIPAL} roles`);
    const scopes: string[] = [];
    roles.forEach((name: unknown, i) => {
      const granted = typeof name === 'string' ? known.roleScopes(name) : undefined;
      if (granted === undefined) throw new InvalidField(`roles.${i}`, `names an unknown role ${JSON.stringify(name)}`);
      scopes.push(...granted);
    });
    return { names: roles as string[], scopes };
  }

  private inFuture(expiresAt: number | undefined): void {
    if (expiresAt !== undefined && expiresAt <= this.deps.clock.now()) throw new InvalidField('expires_at', 'must be in the future');
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidField('body', 'must be a JSON object');
  return value as Record<string, unknown>;
}

/** RFC 7396 on top-level members: those of `patch` replace those of `target`; null removes one. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...target };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete out[name];
    else out[name] = value;
  }
  return out;
}
