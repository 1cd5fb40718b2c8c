import { z } from 'zod';
import type { PrincipalRolesView } from '../../application/admin/roles.js';
import { MAX_ROLES_PER_PRINCIPAL } from '../../domain/role.js';
import { roleChangeSchema } from '../../config/role-api.js';
import { clientShape, roleName, roleSchema } from '../../config/schema.js';
import { adminRoute, pageOf, pageQuery, problemSchema, type AdminRoute } from './route.js';

/** Roles (RBAC for services and agents, docs/roles.md): the same zod rules as config.yaml's roles: list. */
const TAGS = ['roles'] as const;

const roleBody = z.object({
  name: z.string(),
  description: z.string().nullable(),
  scope: z.string().describe('Space-separated scopes the role lets a client ask for (client_credentials)'),
  resources: z.array(z.string()).describe('RFC 8707 resources the role lets a client ask for'),
  source: z.enum(['config', 'api']).describe('config: declared in config.yaml (read-only here); api: made through the API or the CLI'),
  created_at: z.iso.datetime().nullable(),
  updated_at: z.iso.datetime().nullable(),
});

const principalRoles = z.object({
  roles: z.array(z.object({ name: z.string(), source: z.enum(['config', 'api']) })).describe('Each role with who gave it (config.yaml or the API)'),
  effective: z
    .object({ scope: z.string(), resources: z.array(z.string()) })
    .optional()
    .describe('An enabled client only: what client_credentials may ask for now (its own plus its roles\')'),
});

const assignment = z.strictObject({
  roles: z.array(roleName).max(MAX_ROLES_PER_PRINCIPAL).describe('The roles the API gives (replacing what the API gave before; config.yaml\'s stay)'),
});

const byName = z.strictObject({ name: roleName });
const byClient = z.strictObject({ id: clientShape.shape.client_id });
const byUser = z.strictObject({ id: z.string().min(1).max(128).describe('The user\'s id (sub) or username') });

const problems = {
  400: { description: 'A field is wrong (named in field)', schema: problemSchema },
  403: { description: 'The role grants trusty: scopes and the caller does not hold trusty:admin', schema: problemSchema },
} as const;
const notFound = { 404: { description: 'No such role, client or user', schema: problemSchema } } as const;
const configOwned = { 409: { description: 'The role is declared in config.yaml: change it there', schema: problemSchema } } as const;

const view = (roles: PrincipalRolesView) => ({ roles: roles.roles, ...(roles.effective !== undefined ? { effective: roles.effective } : {}) });

export const rolesRoutes: AdminRoute[] = [
  adminRoute({
    method: 'GET',
    path: '/roles',
    scope: 'trusty:clients:read',
    summary: 'Roles, in name order',
    tags: TAGS,
    query: pageQuery,
    responses: { 200: { description: 'A page of roles', schema: pageOf(roleBody) }, 400: problems[400] },
    async handler({ query, control }) {
      return { body: await control.roles.list({ limit: query.limit, cursor: query.cursor }) };
    },
  }),
  adminRoute({
    method: 'POST',
    path: '/roles',
    scope: 'trusty:clients:write',
    summary: 'Create a role',
    tags: TAGS,
    body: roleSchema,
    responses: { 201: { description: 'The role', schema: roleBody }, ...problems, 409: { description: 'A role of that name exists', schema: problemSchema } },
    async handler({ body, actor, control, deps }) {
      const role = await control.roles.create(actor, body);
      return { status: 201, body: role, headers: { location: `${deps.issuer}/admin/v1/roles/${encodeURIComponent(role.name)}` } };
    },
  }),
  adminRoute({
    method: 'GET',
    path: '/roles/{name}',
    scope: 'trusty:clients:read',
    summary: 'A role',
    tags: TAGS,
    params: byName,
    responses: { 200: { description: 'The role', schema: roleBody }, 400: problems[400], ...notFound },
    async handler({ params, control }) {
      return { body: await control.roles.get(params.name) };
    },
  }),
  adminRoute({
    method: 'PATCH',
    path: '/roles/{name}',
    scope: 'trusty:clients:write',
    summary: 'Change a role made through the API (members not sent stay)',
    tags: TAGS,
    params: byName,
    body: roleChangeSchema,
    responses: { 200: { description: 'The role', schema: roleBody }, ...problems, ...notFound, ...configOwned },
    async handler({ params, body, actor, control }) {
      return { body: await control.roles.update(actor, params.name, body) };
    },
  }),
  adminRoute({
    method: 'DELETE',
    path: '/roles/{name}',
    scope: 'trusty:clients:write',
    summary: 'Delete a role made through the API, and every assignment of it',
    tags: TAGS,
    params: byName,
    responses: { 204: { description: 'Deleted' }, 400: problems[400], 403: problems[403], ...notFound, ...configOwned },
    async handler({ params, actor, control }) {
      await control.roles.delete(actor, params.name);
      return { status: 204 };
    },
  }),
  adminRoute({
    method: 'GET',
    path: '/clients/{id}/roles',
    scope: 'trusty:clients:read',
    summary: "A client's roles, and what it may ask for now",
    tags: TAGS,
    params: byClient,
    responses: { 200: { description: "The client's roles", schema: principalRoles }, 400: problems[400], ...notFound },
    async handler({ params, control }) {
      return { body: view(await control.roles.clientRoles(params.id)) };
    },
  }),
  adminRoute({
    method: 'PUT',
    path: '/clients/{id}/roles',
    scope: 'trusty:clients:write',
    summary: 'Replace the roles the API gives a client (config.yaml\'s stay)',
    tags: TAGS,
    params: byClient,
    body: assignment,
    responses: { 200: { description: "The client's roles", schema: principalRoles }, ...problems, ...notFound },
    async handler({ params, body, actor, control }) {
      return { body: view(await control.roles.setClientRoles(actor, params.id, body.roles)) };
    },
  }),
  adminRoute({
    method: 'GET',
    path: '/users/{id}/roles',
    // A user operation (trusty:admin, as every /users one): relying parties authorize on the roles claim.
    scope: null,
    summary: "A user's roles (the roles claim of its tokens)",
    tags: TAGS,
    params: byUser,
    responses: { 200: { description: "The user's roles", schema: principalRoles }, 400: problems[400], ...notFound },
    async handler({ params, control }) {
      return { body: view(await control.roles.userRoles(params.id)) };
    },
  }),
  adminRoute({
    method: 'PUT',
    path: '/users/{id}/roles',
    scope: null,
    summary: 'Replace the roles the API gives a user (config.yaml\'s stay)',
    tags: TAGS,
    params: byUser,
    body: assignment,
    responses: { 200: { description: "The user's roles", schema: principalRoles }, ...problems, ...notFound },
    async handler({ params, body, actor, control }) {
      return { body: view(await control.roles.setUserRoles(actor, params.id, body.roles)) };
    },
  }),
];
