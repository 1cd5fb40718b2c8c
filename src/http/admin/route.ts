import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../../application/admin/changes.js';
import type { ControlPlane } from '../../application/admin/control-plane.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../application/admin/paging.js';
import type { HttpDeps } from '../deps.js';

/** Where the management API lives (CONTRACT.md, Operators). */
export const ADMIN_PREFIX = '/admin/v1';

/** The management API's scopes: trusty:admin grants everything, the others one part. */
export const ADMIN_SCOPE = 'trusty:admin';
export const NARROW_ADMIN_SCOPES = ['trusty:clients:read', 'trusty:clients:write', 'trusty:audit:read', 'trusty:keys:write', 'trusty:metrics', 'trusty:observability:read'] as const;
export type NarrowAdminScope = (typeof NARROW_ADMIN_SCOPES)[number];

export interface AdminResponse {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface AdminRequest<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly actor: Actor;
  readonly control: ControlPlane;
  readonly deps: HttpDeps;
}

/**
 * One operation of the management API: the route and its OpenAPI entry come from this one
 * definition (src/http/admin/openapi.ts), so the document cannot drift from what is served.
 */
export interface AdminRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI style, relative to /admin/v1: `/clients/{id}`. */
  readonly path: string;
  /** The narrow scope that also grants this operation; null: trusty:admin only. */
  readonly scope: NarrowAdminScope | null;
  readonly summary: string;
  readonly tags: readonly [string];
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: z.ZodType }>>;
  handler(request: AdminRequest<any, any, any>, reply: FastifyReply): Promise<AdminResponse>;
}

/** Defines a route with its input types inferred from its schemas. */
export function adminRoute<P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(definition: {
  readonly method: AdminRoute['method'];
  readonly path: string;
  readonly scope: NarrowAdminScope | null;
  readonly summary: string;
  readonly tags: readonly [string];
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly responses: AdminRoute['responses'];
  handler(request: AdminRequest<z.output<P>, z.output<Q>, z.output<B>>, reply: FastifyReply): Promise<AdminResponse>;
}): AdminRoute {
  return definition as AdminRoute;
}

/** Paging, the same for every list: `limit` 1–200 (default 50), `cursor` from the previous page's next_cursor. */
export { MAX_PAGE_SIZE };
export const pageQuery = z.strictObject({
  // Decimal digits only: Number() would also read 0x10, 1e2 or ' 5'.
  limit: z
    .string()
    .regex(/^[1-9]\d{0,2}$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
    .transform(Number)
    .pipe(z.number().max(MAX_PAGE_SIZE, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`))
    .default(DEFAULT_PAGE_SIZE)
    .describe(`Items per page (1–${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE})`),
  cursor: z.string().min(1).max(512).optional().describe("The previous page's next_cursor"),
});

/** A list response: the page's items and the cursor of the next page (null on the last one). */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

/** RFC 9457 problem details, as every error of the management API is sent. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  field: z.string().optional().describe('The first field at fault (dotted path), when a field is wrong'),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
