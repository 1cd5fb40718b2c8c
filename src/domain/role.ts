/**
 * Roles (RBAC for services and agents): a role names scopes and resources; clients and users are
 * given roles. A client_credentials grant may ask for its client's own scope and resources plus
 * those of its roles; access tokens carry the `roles` claim when the client registered for it
 * (RFC 9068 §2.2.3.1, the SCIM `roles` attribute of RFC 7643 §4.1.2).
 */

/** A role's name: short, safe in a URL path, a log line and a JWT claim. */
export const ROLE_NAME = /^[A-Za-z0-9._:-]{1,64}$/;
export const ROLE_NAME_RULE = 'must be 1–64 characters of A–Z a–z 0–9 . _ : -';
/** Bounds: roles are held in memory by every server, and a role's scopes are scanned per token. */
export const MAX_ROLES = 1000;
export const MAX_ROLE_SCOPES = 100;
export const MAX_ROLE_RESOURCES = 50;
export const MAX_ROLE_DESCRIPTION = 500;
/** Roles one client or user may hold (per source: config.yaml, the API). */
export const MAX_ROLES_PER_PRINCIPAL = 50;

/** Who owns a role or an assignment: `config` is config.yaml's (reseeded at every start), `api` the control plane's. */
export type RoleSource = 'config' | 'api';
export type PrincipalType = 'client' | 'user';

export interface Role {
  readonly name: string;
  readonly description: string | undefined;
  /** Scopes the role lets a client ask for (RFC 6749 §3.3 tokens). */
  readonly scopes: readonly string[];
  /** RFC 8707 resources (token audiences) the role lets a client ask for. */
  readonly resources: readonly string[];
  readonly source: RoleSource;
  /** Seconds; set by storage. */
  readonly createdAt?: number | undefined;
  readonly updatedAt?: number | undefined;
}

export interface RoleAssignment {
  readonly role: string;
  readonly principalType: PrincipalType;
  /** A client's client_id, or a user's id (`sub`, stable across renames). */
  readonly principalId: string;
  readonly source: RoleSource;
}

/** The control plane's own scopes: only an admin may hand them out through a role. */
export const CONTROL_PLANE_SCOPE_PREFIX = 'trusty:';

export function grantsControlPlaneScope(role: Pick<Role, 'scopes'>): boolean {
  return role.scopes.some((scope) => scope.startsWith(CONTROL_PLANE_SCOPE_PREFIX));
}

/** What a client may ask for in a client_credentials grant: its own scope and resources and its roles'. */
export interface EffectiveAccess {
  readonly scopes: readonly string[];
  readonly scopeSet: ReadonlySet<string>;
  readonly resources: readonly string[];
  /** The names of the client's roles (the `roles` claim), sorted. */
  readonly roles: readonly string[];
}

/** The union of a client's own scope and resources with those of its roles (unknown role names are skipped). */
export function effectiveAccess(
  own: { readonly scopes: readonly string[]; readonly resources: readonly string[] },
  roleNames: readonly string[],
  roles: ReadonlyMap<string, Role>,
): EffectiveAccess {
  const scopes = new Set(own.scopes);
  const resources = new Set(own.resources);
  for (const name of roleNames) {
    const role = roles.get(name);
    if (role === undefined) continue;
    for (const scope of role.scopes) scopes.add(scope);
    for (const resource of role.resources) resources.add(resource);
  }
  return Object.freeze({ scopes: Object.freeze([...scopes]), scopeSet: scopes, resources: Object.freeze([...resources]), roles: roleNames });
}
