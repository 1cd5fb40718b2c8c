import { z } from 'zod';
import { AUDIT_FILTER_MAX_LENGTH, auditEntryView } from '../../application/admin/audit.js';
import { adminRoute, pageOf, pageQuery, problemSchema, type AdminRoute } from './route.js';

const instant = (what: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe(`${what}: an ISO 8601 date-time (2026-01-31T12:00:00Z), a date, epoch milliseconds, or a duration back from now (24h, 7d)`);
const id = (what: string) => z.string().min(1).max(AUDIT_FILTER_MAX_LENGTH).optional().describe(what);

const auditQuery = pageQuery.extend({
  since: instant('Events at or after this time'),
  until: instant('Events before this time'),
  event: z.string().min(1).max(66).optional().describe('An event name (token.issued) or a prefix of known event names ending in .* (client.*); docs/audit.md lists them'),
  client_id: id('Events about this client'),
  user_id: id('Events about this user'),
  actor: id('Management changes made by this actor: client:<client_id> (the API) or cli:<os user>'),
});

const auditEntry = z.object({
  id: z.number().int().describe('Increases with every event written'),
  at: z.string().describe('When, ISO 8601 in UTC with milliseconds'),
  event: z.string(),
  client_id: z.string().nullable(),
  user_id: z.string().nullable(),
  actor: z.string().nullable().describe('Who made a management change'),
  ip: z.string().nullable(),
  user_agent: z.string().nullable().describe('The caller\'s User-Agent, up to 256 characters (128 for client.auth_failed)'),
  details: z.record(z.string(), z.unknown()).nullable().describe('Per event: before/after of a management change (never secrets), grant_type and jti of a token, suppressed counts…'),
});

/**
 * GET /admin/v1/audit: the audit log, newest first, one page at a time (docs/audit.md). Each
 * page's cost is bounded (src/infrastructure/sqlite/audit-reader.ts): it runs on the server's
 * only database connection.
 */
export const auditRoutes: AdminRoute[] = [
  adminRoute({
    method: 'GET',
    path: '/audit',
    scope: 'trusty:audit:read',
    summary: 'Audit events, newest first, filtered by time, event, client, user and actor',
    tags: ['audit'],
    query: auditQuery,
    responses: {
      200: {
        description: 'A page of events. It may hold fewer than limit, even none, and still have a next_cursor (client_id with user_id, or actor with another filter, examine at most 10 000 events a page): follow next_cursor until it is null',
        schema: pageOf(auditEntry),
      },
      400: { description: 'A query parameter is wrong (named in field)', schema: problemSchema },
    },
    async handler({ query, control }) {
      const { items, nextCursor } = await control.audit.list(
        { since: query.since, until: query.until, event: query.event, clientId: query.client_id, userId: query.user_id, actor: query.actor },
        { limit: query.limit, cursor: query.cursor },
      );
      return { body: { items: items.map(auditEntryView), next_cursor: nextCursor } };
    },
  }),
];
