import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { projectRoot } from '../../infrastructure/project-root.js';

/** The hosted pages' stylesheet and icon, read once. */
export async function assetRoutes(app: FastifyInstance) {
  const css = readFileSync(join(projectRoot, 'public', 'style.css'));
  const icon = readFileSync(join(projectRoot, 'public', 'favicon.svg'));
  app.get('/assets/style.css', async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css),
  );
  // Linked by every page (templates/layout.hbs), so browsers do not ask for /favicon.ico, which does not exist.
  app.get('/assets/favicon.svg', async (_request, reply) =>
    reply.header('content-type', 'image/svg+xml').header('cache-control', 'public, max-age=86400').send(icon),
  );
}
