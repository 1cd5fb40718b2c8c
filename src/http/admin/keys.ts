import { z } from 'zod';
import { SIGNING_ALGS } from '../../domain/client.js';
import { adminRoute, problemSchema, type AdminRoute } from './route.js';

/**
 * The provider's signing keys (docs/keys.md). Both operations take trusty:keys:write: the list
 * shows public facts only (kids, states, dates), and whoever rotates needs it to check the result.
 */
const TAGS = ['keys'] as const;

const keyBody = z.object({
  kid: z.string().describe('RFC 7638 thumbprint of the public key, as in the JWKS'),
  alg: z.enum(SIGNING_ALGS),
  state: z.enum(['prepublished', 'active', 'retired']).describe('prepublished: in the JWKS, not signing yet; active: signing; retired: in the JWKS until what it signed has expired'),
  created_at: z.string().describe('ISO 8601'),
  activates_at: z.string().describe('When it starts (or started) signing, ISO 8601'),
  retires_at: z.string().describe('When it stops signing: its successor\'s activation, or when that is expected (ISO 8601)'),
  removes_at: z.string().describe('When it leaves the JWKS (ISO 8601)'),
});

const rotationBody = z.object({
  alg: z.enum(SIGNING_ALGS),
  retired: z.string().nullable().describe('The kid that stopped signing (still published until what it signed has expired)'),
  active: z.string().describe('The kid signing from activates_at'),
  activates_at: z.string().describe('Now, or the next second when the retired key itself activated this second (ISO 8601)'),
  next: z.string().nullable().describe('The kid of the prepublished successor'),
});

const rotateRequest = z.strictObject({
  alg: z.enum(SIGNING_ALGS).optional().describe('The algorithm to rotate; every algorithm when absent'),
  force: z
    .boolean()
    .optional()
    .describe('Rotate even within 300 s of the previous rotation (the new key may be missing from JWKS caches): for a suspected key compromise'),
});

export const keysRoutes: AdminRoute[] = [
  adminRoute({
    method: 'GET',
    path: '/keys',
    scope: 'trusty:keys:write',
    summary: 'The published signing keys, by algorithm then activation (a few per algorithm: not paged)',
    tags: TAGS,
    responses: { 200: { description: 'Every key in the JWKS, with its state and dates', schema: z.object({ items: z.array(keyBody) }) } },
    async handler({ control }) {
      return { body: { items: await control.keys.list() } };
    },
  }),
  adminRoute({
    method: 'POST',
    path: '/keys/rotate',
    scope: 'trusty:keys:write',
    summary: 'Rotate now: the prepublished key signs from now on, the signing one retires, a new successor is prepublished',
    tags: TAGS,
    body: rotateRequest,
    responses: {
      200: { description: 'What each algorithm rotated, and the keys after it', schema: z.object({ rotated: z.array(rotationBody), items: z.array(keyBody) }) },
      400: { description: 'A field is wrong (named in field)', schema: problemSchema },
      409: { description: 'Rotated less than 300 s ago (unless force), or too many keys of the algorithm still published', schema: problemSchema },
    },
    async handler({ body, actor, control }) {
      const rotated = await control.keys.rotate(actor, { alg: body.alg, force: body.force });
      return { body: { rotated, items: await control.keys.list() } };
    },
  }),
];
