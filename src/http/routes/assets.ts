import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { projectRoot } from '../../infrastructure/project-root.js';

/** The hosted pages' stylesheet, read once. */
export async function assetRoutes(app: FastifyInstance) {
  const css = readFileSync(join(projectRoot, 'public', 'style.css'));
  app.get('/assets/style.css', async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css),
  );
}
