import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../cookies.js';
import type { HttpDeps } from '../deps.js';
import { loadInteraction, sendOutcome } from '../outcome.js';

/** The hosted page of an interaction: the login form, the consent form, or the final redirect. */
export async function interactionRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  app.get('/interaction/:id', { config: { page: true } }, async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const interaction = await loadInteraction(request, deps);
    const session = await deps.sessions.find(request.cookies[SESSION_COOKIE]);
    const outcome = await deps.authorization.resume(interaction, session);
    return sendOutcome(request, reply, outcome, deps);
  });
}
