import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';

/** RFC 7517 §5: the public signing keys, each with kid, alg and use. */
export async function jwksRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const body = JSON.stringify(deps.keys.jwks());
  app.get('/.well-known/jwks.json', async (_request, reply) =>
    reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'public, max-age=300').send(body),
  );
}
