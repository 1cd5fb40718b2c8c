import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';

/**
 * Liveness and readiness, for a container orchestrator or a load balancer.
 * - /health (contract): 200 {"status":"ok"} once migrated, keyed and seeded; 503 before. It
 *   does no I/O: a liveness probe that fails on a slow disk would restart a healthy server.
 * - /health/ready: 200 only while this server can serve requests now — the database answers,
 *   its schema is this build's, every algorithm has a signing key — else 503 with the failed
 *   check marked "failed" (its cause in the log, not in a public answer); 503 too while stopping (Fastify answers every new request 503 after close()),
 *   so a load balancer drains the node before it goes.
 */
export async function healthRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  app.get('/health', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return deps.isReady() ? { status: 'ok' } : reply.code(503).send({ status: 'starting' });
  });
  app.get('/health/ready', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const report = deps.readiness();
    const ready = report.ready && deps.isReady();
    // The answer is public: each check says ok or what failed in a word; the cause is logged.
    if (!ready) request.log.warn({ checks: report.checks }, 'not ready');
    const checks = Object.fromEntries(Object.entries(report.checks).map(([name, result]) => [name, result === 'ok' ? 'ok' : 'failed']));
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
}
