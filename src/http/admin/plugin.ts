import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../../application/admin/changes.js';
import type { HttpDeps } from '../deps.js';
import { accessTokenOf } from '../protected-resource.js';
import { buildOpenApi } from './openapi.js';
import { ADMIN_PREFIX, ADMIN_SCOPE, type AdminRoute, type NarrowAdminScope } from './route.js';
import { AdminHttpError, AdminScopeRequired, invalidInput, sendProblem } from './problem.js';
import { ADMIN_ROUTES } from './routes.js';

export { ADMIN_PREFIX } from './route.js';
/** Management requests are small JSON documents (a client with 20 keys is about 20 KB). */
export const ADMIN_BODY_LIMIT_BYTES = 256 * 1024;
/** Objects and arrays nested deeper than this are refused (the deepest request is a client's jwks: 4). */
export const MAX_JSON_DEPTH = 32;


/**
 * The management API under /admin/v1: JSON in and out, RFC 9457 problems on errors, each call
 * authorized by an access token this server issued by client_credentials (Bearer, or DPoP-bound
 * with its proof) whose scope includes trusty:admin or the operation's narrower scope — and whose
 * client still holds that scope now (a scope taken away takes effect at once, not at token expiry).
 */
export async function adminPlugin(app: FastifyInstance, { deps, routes = ADMIN_ROUTES }: { deps: HttpDeps; routes?: readonly AdminRoute[] }) {
  const realm = deps.issuer + ADMIN_PREFIX;
  // JSON only: the protocol endpoints' form parser is not inherited here.
  app.removeContentTypeParser('application/x-www-form-urlencoded');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: ADMIN_BODY_LIMIT_BYTES }, (request, body, done) => {
    parseJson(request, body as string, (error, value) => {
      if (error !== null) return done(error, undefined);
      // Deeper documents exist in no request of this API, and code that walks them (zod,
      // JSON.stringify) would overflow its stack: a 400, not a 500.
      if (depthExceeds(value, MAX_JSON_DEPTH)) {
        return done(new AdminHttpError({ type: 'urn:trusty:problem:invalid-request', title: 'Invalid request', status: 400, detail: `the JSON body is nested more than ${MAX_JSON_DEPTH} levels deep` }), undefined);
      }
      done(null, value);
    });
  });
  app.setErrorHandler(async (error, request, reply) => sendProblem(error, request, reply, realm));
  app.setNotFoundHandler(async (request, reply) =>
    sendProblem(new AdminHttpError({ type: 'urn:trusty:problem:not-found', title: 'Not found', status: 404, detail: 'no such operation in the management API' }), request, reply, realm),
  );

  // Built at the first request, then kept: most servers never serve it, and the zod-to-JSON-Schema
  // conversion of every route is memory a server at rest need not hold.
  let openApi: string | undefined;
  app.get('/openapi.json', async (_request, reply) => {
    openApi ??= JSON.stringify(buildOpenApi(deps.issuer, ADMIN_PREFIX, routes));
    return reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-cache').send(openApi);
  });

  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.path.replace(/\{([A-Za-z_]+)\}/g, ':$1'),
      bodyLimit: ADMIN_BODY_LIMIT_BYTES,
      handler: async (request, reply) => {
        const actor = await authorizeOperator(request, reply, deps, route.scope);
        const params = parse(route.params, request.params, 'params');
        const query = parse(route.query, request.query, 'query');
        const body = parse(route.body, request.body, 'body');
        const response = await route.handler({ params, query, body, actor, control: deps.control, deps }, reply);
        reply.code(response.status ?? 200).header('cache-control', 'no-store');
        for (const [name, value] of Object.entries(response.headers ?? {})) reply.header(name, value);
        return response.body === undefined ? reply.send() : reply.send(response.body);
      },
    });
  }
}

function parse(schema: AdminRoute['params'], value: unknown, where: 'body' | 'query' | 'params'): unknown {
  if (schema === undefined) return undefined;
  // An empty body arrives as undefined; a schema that accepts an object gets {} to apply its defaults.
  const result = schema.safeParse(where === 'body' && value === undefined ? {} : value);
  if (!result.success) throw invalidInput(result.error, where);
  return result.data;
}

/**
 * Checks the access token, its proof when DPoP-bound, and the operation's scope (trusty:admin, or
 * `scope` when not null); returns who calls. Throws AdminScopeRequired or the access-token errors
 * (RFC 6750/9449 challenge already set on the reply); /metrics and /observability use it too.
 */
export async function authorizeOperator(request: FastifyRequest, reply: FastifyReply, deps: HttpDeps, scope: NarrowAdminScope | null): Promise<Actor> {
  const route = { scope };
  // RFC 9449 §7.1: htu is the URL without the query.
  const url = deps.issuer + request.url.split('?')[0];
  const { token, client } = await accessTokenOf(request, reply, deps, url, 'an access token with the trusty:admin scope is required in the Authorization header');
  const wanted = route.scope === null ? ADMIN_SCOPE : `${ADMIN_SCOPE} ${route.scope}`;
  // Only a service's own token (client_credentials: sub is the client, RFC 9068 §2.2, and no
  // auth_time, which every token of a signed-in user carries) manages the server.
  if (token.sub !== token.clientId || token.payload.auth_time !== undefined) throw new AdminScopeRequired('the management API takes client_credentials access tokens only', wanted);
  // Held by the token, and still by its client now.
  const holds = (scope: string) => token.scopes.includes(scope) && deps.control.scopesOf(client).includes(scope);
  const admin = holds(ADMIN_SCOPE);
  if (!admin && (route.scope === null || !holds(route.scope))) {
    throw new AdminScopeRequired(`this operation needs the scope ${route.scope === null ? ADMIN_SCOPE : `${ADMIN_SCOPE} or ${route.scope}`}`, wanted);
  }
  const userAgent = request.headers['user-agent'];
  // The audit log cuts the user agent to its own limit.
  return { id: `client:${client.clientId}`, admin, ip: request.ip, userAgent };
}

/** Whether `value` nests objects or arrays more than `max` levels (iterative: no recursion to overflow). */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > max) return true;
    for (const member of Object.values(item)) if (member !== null && typeof member === 'object') stack.push([member, depth + 1]);
  }
  return false;
}
