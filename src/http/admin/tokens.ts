import { z } from 'zod';
import { clientShape } from '../../config/schema.js';
import { adminRoute, problemSchema, type AdminRoute } from './route.js';
import { userRef } from './users.js';

/** Revoking every token of a client or a user at once (docs/users.md). trusty:admin only. */
const TAGS = ['tokens'] as const;

const revokeBody = z
  .strictObject({
    client_id: clientShape.shape.client_id.optional().describe("Revoke every token of this client (its client_credentials tokens included)"),
    user_id: userRef.optional().describe('Revoke every token of this user (its id, i.e. sub, or its username; an id is looked up first), and end its sessions'),
  })
  .superRefine((body, ctx) => {
    if (body.client_id !== undefined && body.user_id !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['user_id'], message: 'must not be given together with client_id: revoke one at a time' });
    }
    if (body.client_id === undefined && body.user_id === undefined) ctx.addIssue({ code: 'custom', path: ['client_id'], message: 'or user_id is required' });
  });

const revokedBody = z.object({
  refresh_tokens: z.number().int().describe('Refresh tokens that still worked'),
  access_tokens: z.number().int().describe('Recorded access tokens not yet expired (a client\'s client_credentials tokens are not recorded: all die, uncounted)'),
  sessions: z.number().int().describe('Live sessions ended (a user\'s), their clients told by back-channel logout'),
});

export const tokensRoutes: AdminRoute[] = [
  adminRoute({
    method: 'POST',
    path: '/tokens/revoke',
    scope: null,
    summary: 'Revoke at once every token of a client or of a user (exactly one of client_id and user_id)',
    tags: TAGS,
    body: revokeBody,
    responses: {
      200: { description: 'What was revoked', schema: revokedBody },
      400: { description: 'Neither or both of client_id and user_id, or a wrong field (named in field)', schema: problemSchema },
      404: { description: 'No such client or user', schema: problemSchema },
    },
    async handler({ body, actor, control }) {
      return { body: (await control.tokens.revoke(actor, { clientId: body.client_id, user: body.user_id })).counts };
    },
  }),
];
