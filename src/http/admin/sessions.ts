import { z } from 'zod';
import { adminRoute, pageOf, pageQuery, problemSchema, type AdminRoute } from './route.js';
import { userRef } from './users.js';

/** Users' SSO sessions (docs/users.md): listed per user, revoked one by one. trusty:admin only. */
const TAGS = ['sessions'] as const;

const sessionBody = z.object({
  sid: z.string().describe('The OIDC sid, as in the ID tokens and logout tokens of the session'),
  user_id: z.string(),
  auth_time: z.iso.datetime(),
  expires_at: z.iso.datetime(),
  client_ids: z.array(z.string()).describe('The clients the session logged in to'),
});

const listQuery = pageQuery.extend({
  user_id: userRef.describe('The user whose live sessions to list: its id (sub) or its username (an id is looked up first)'),
});

const bySid = z.strictObject({ sid: z.string().min(1).max(128).describe('The OIDC sid') });

export const sessionsRoutes: AdminRoute[] = [
  adminRoute({
    method: 'GET',
    path: '/sessions',
    scope: null,
    summary: "A user's live sessions, newest first",
    tags: TAGS,
    query: listQuery,
    responses: {
      200: { description: 'A page of sessions', schema: pageOf(sessionBody) },
      400: { description: 'A field is wrong (named in field)', schema: problemSchema },
      404: { description: 'No such user', schema: problemSchema },
    },
    async handler({ query, control }) {
      return { body: await control.sessions.list(query.user_id, { limit: query.limit, cursor: query.cursor }) };
    },
  }),
  adminRoute({
    method: 'DELETE',
    path: '/sessions/{sid}',
    scope: null,
    summary: 'End a live session: its browser is signed out and its clients get a back-channel logout token, once',
    tags: TAGS,
    params: bySid,
    responses: {
      204: { description: 'Ended' },
      404: { description: 'No live session has this sid (unknown, ended or expired)', schema: problemSchema },
    },
    async handler({ params, actor, control }) {
      await control.sessions.revoke(actor, params.sid);
      return { status: 204 };
    },
  }),
];
