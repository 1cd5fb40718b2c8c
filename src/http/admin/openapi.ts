import { z } from 'zod';
import { ADMIN_SCOPE, NARROW_ADMIN_SCOPES, problemSchema, type AdminRoute } from './route.js';

type JsonSchema = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), for what a caller sends or receives. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** Path or query parameters: one entry per member of the object schema. */
function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (schema === undefined) return [];
  const object = jsonSchema(schema, 'input');
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (required.has(name) && !('default' in property)),
      schema: rest,
      ...(typeof description === 'string' ? { description } : {}),
    };
  });
}

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  [ADMIN_SCOPE]: 'Every operation of the management API',
  'trusty:clients:read': 'Read clients, service accounts and roles',
  'trusty:clients:write': 'Create, change and remove clients, service accounts and roles (not trusty: scopes)',
  'trusty:audit:read': 'Read the audit log',
  'trusty:metrics': 'Scrape /metrics (when metrics.auth is admin)',
  'trusty:observability:read': 'Read the /observability summaries',
  'trusty:keys:write': 'List and rotate the signing keys',
};

/**
 * The OpenAPI 3.1 document of the management API, generated from the route definitions and
 * their zod schemas (the same objects that validate requests), never written by hand.
 */
export function buildOpenApi(issuer: string, prefix: string, routes: readonly AdminRoute[]): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  const problem = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema !== undefined ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } } : {}),
      };
    }
    responses['400'] ??= { description: 'Invalid input: the problem names the field', content: problem };
    responses['401'] = { description: 'No valid access token (WWW-Authenticate says why)', content: problem };
    responses['403'] = { description: 'The access token lacks the scope (WWW-Authenticate: insufficient_scope)', content: problem };
    const operation = {
      operationId: `${route.method.toLowerCase()}${route.path.replace(/\{([A-Za-z_]+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: route.summary,
      tags: [...route.tags],
      security: [{ trusty: [ADMIN_SCOPE] }, ...(route.scope !== null ? [{ trusty: [route.scope] }] : [])],
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(route.body !== undefined ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
      responses,
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Trusty management API',
      version: '1',
      description: 'Clients, service accounts, users, roles, sessions, tokens, signing keys and the audit log. Errors are RFC 9457 problems.',
    },
    servers: [{ url: issuer + prefix }],
    paths,
    components: {
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
      securitySchemes: {
        trusty: {
          type: 'oauth2',
          description: 'An access token from this server (client_credentials), as Bearer or DPoP-bound with its proof',
          flows: {
            clientCredentials: {
              tokenUrl: `${issuer}/token`,
              scopes: Object.fromEntries([ADMIN_SCOPE, ...NARROW_ADMIN_SCOPES].map((scope) => [scope, SCOPE_DESCRIPTIONS[scope] ?? scope])),
            },
          },
        },
      },
    },
  };
}
