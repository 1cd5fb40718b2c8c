import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';

/** OpenID Connect Discovery 1.0 and RFC 8414: one document, serialised once. */
export async function discoveryRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const body = JSON.stringify(deps.discovery);
  const handler = async (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'public, max-age=300').send(body);
  app.get('/.well-known/openid-configuration', handler);
  app.get('/.well-known/oauth-authorization-server', handler);
}
