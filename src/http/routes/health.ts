import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';

/** Contract: 200 {"status":"ok"} once migrated, keyed and seeded; 503 before. */
export async function healthRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  app.get('/health', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return deps.isReady() ? { status: 'ok' } : reply.code(503).send({ status: 'starting' });
  });
}
