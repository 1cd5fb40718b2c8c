import { z } from 'zod';
import { USERNAME_MAX_LENGTH } from '../../domain/user.js';
import { passwordBody, userCreateBody, userPatchBody } from '../../config/user-api.js';
import { adminRoute, pageOf, pageQuery, problemSchema, type AdminRoute } from './route.js';

/** End-users (docs/users.md): config.yaml's may be read, the API's managed. trusty:admin only. */
const TAGS = ['users'] as const;

export const userBody = z.object({
  id: z.string().describe('Stable subject identifier (sub)'),
  username: z.string(),
  claims: z.record(z.string(), z.unknown()),
  source: z.enum(['config', 'api']).describe('config: declared in config.yaml (read-only here); api: made through the API or the CLI'),
  enabled: z.boolean(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  failed_logins: z.number().int().min(0).describe('Failed logins in a row that still count (docs/lockout.md); from lock_after on, the next failure locks again (each lock in a row twice as long); 0 after a success, an unlock, a password reset or 24 h quiet'),
  locked_until: z.iso.datetime().nullable().describe('Until when logins are refused after too many failed ones; null when not locked'),
});

const endedBody = z
  .object({ refresh_tokens: z.number().int(), access_tokens: z.number().int(), sessions: z.number().int() })
  .describe('What was ended: refresh tokens, recorded access tokens not yet expired, live sessions (their clients told by back-channel logout)');

const withPassword = userBody.extend({ password: z.string().optional().describe('The generated password, shown this once (only when none was given)') });

/** A user as every route takes it: its id (`sub`) or its username, the id first (docs/users.md). */
export const userRef = z.string().min(1).max(USERNAME_MAX_LENGTH);

const byId = z.strictObject({ id: userRef.describe('The user: its id (sub) or its username (an id is looked up first)') });

const listQuery = pageQuery.extend({
  source: z.enum(['config', 'api']).optional().describe('Only users of this source'),
  enabled: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('true: enabled users only; false: disabled ones only'),
  username_prefix: z.string().min(1).max(USERNAME_MAX_LENGTH).optional().describe('Only usernames starting with this (exact, case-sensitive)'),
});

const invalid = { 400: { description: 'A field is wrong (named in field)', schema: problemSchema } } as const;
const notFound = { 404: { description: 'No such user', schema: problemSchema } } as const;
const configOwned = { 409: { description: 'The user is declared in config.yaml: change it there', schema: problemSchema } } as const;

export const usersRoutes: AdminRoute[] = [
  adminRoute({
    method: 'GET',
    path: '/users',
    scope: null,
    summary: 'Users, in username order',
    tags: TAGS,
    query: listQuery,
    responses: { 200: { description: 'A page of users', schema: pageOf(userBody) }, ...invalid },
    async handler({ query, control }) {
      const page = await control.users.list({
        limit: query.limit,
        cursor: query.cursor,
        source: query.source,
        enabled: query.enabled,
        usernamePrefix: query.username_prefix,
      });
      return { body: page };
    },
  }),
  adminRoute({
    method: 'POST',
    path: '/users',
    scope: null,
    summary: 'Create a user (source api); without a password, one is generated and returned once',
    tags: TAGS,
    body: userCreateBody,
    responses: {
      201: { description: 'The user, with the generated password if none was given', schema: withPassword },
      ...invalid,
      409: { description: 'The username is taken', schema: problemSchema },
    },
    async handler({ body, actor, control, deps }) {
      const user = await control.users.create(actor, body);
      return { status: 201, body: user, headers: { location: `${deps.issuer}/admin/v1/users/${encodeURIComponent(user.id)}` } };
    },
  }),
  adminRoute({
    method: 'GET',
    path: '/users/{id}',
    scope: null,
    summary: 'A user, enabled or not (never its password)',
    tags: TAGS,
    params: byId,
    responses: { 200: { description: 'The user', schema: userBody }, ...notFound },
    async handler({ params, control }) {
      return { body: await control.users.get(params.id) };
    },
  }),
  adminRoute({
    method: 'PATCH',
    path: '/users/{id}',
    scope: null,
    summary: "Change an API user's claims (RFC 7396 merge patch: null removes a claim)",
    tags: TAGS,
    params: byId,
    body: userPatchBody,
    responses: { 200: { description: 'The user', schema: userBody }, ...invalid, ...notFound, ...configOwned },
    async handler({ params, body, actor, control }) {
      return { body: await control.users.updateClaims(actor, params.id, body.claims) };
    },
  }),
  adminRoute({
    method: 'POST',
    path: '/users/{id}/disable',
    scope: null,
    summary: 'Disable an API user: no more logins; its sessions, refresh tokens and access tokens end at once',
    tags: TAGS,
    params: byId,
    responses: { 200: { description: 'The user, and what was ended', schema: userBody.extend({ ended: endedBody }) }, ...notFound, ...configOwned },
    async handler({ params, actor, control }) {
      return { body: await control.users.disable(actor, params.id) };
    },
  }),
  adminRoute({
    method: 'POST',
    path: '/users/{id}/enable',
    scope: null,
    summary: 'Enable an API user again (nothing it had before comes back)',
    tags: TAGS,
    params: byId,
    responses: { 200: { description: 'The user', schema: userBody }, ...notFound, ...configOwned },
    async handler({ params, actor, control }) {
      return { body: await control.users.enable(actor, params.id) };
    },
  }),
  adminRoute({
    method: 'POST',
    path: '/users/{id}/unlock',
    scope: null,
    summary: 'Lift the lock (or the waits) that failed logins put on a user: its next login is checked at once (config.yaml users too)',
    tags: TAGS,
    params: byId,
    responses: { 200: { description: 'The user, unlocked', schema: userBody }, ...notFound },
    async handler({ params, actor, control }) {
      return { body: await control.users.unlock(actor, params.id) };
    },
  }),
  adminRoute({
    method: 'POST',
    path: '/users/{id}/password',
    scope: null,
    summary: "Set an API user's password (generated and returned once when none is given); its sessions and tokens end, its lockout is lifted",
    tags: TAGS,
    params: byId,
    body: passwordBody,
    responses: {
      200: { description: 'The user, the generated password if any, and what was ended', schema: withPassword.extend({ ended: endedBody }) },
      ...invalid,
      ...notFound,
      ...configOwned,
    },
    async handler({ params, body, actor, control }) {
      return { body: await control.users.resetPassword(actor, params.id, body.password) };
    },
  }),
];
