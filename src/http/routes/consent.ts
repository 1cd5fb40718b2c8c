import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../cookies.js';
import type { HttpDeps } from '../deps.js';
import { assertCsrf, loadInteraction, sendOutcome } from '../outcome.js';

type ConsentForm = { decision?: unknown; csrf_token?: unknown };

/** The consent form's POST (contract: decision=approve | deny). */
export async function consentRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  app.post(
    '/interaction/:id/consent',
    { config: { page: true } },
    async (request: FastifyRequest<{ Params: { id: string }; Body: ConsentForm | undefined }>, reply) => {
      const interaction = await loadInteraction(request, deps);
      const form = request.body ?? {};
      assertCsrf(interaction, typeof form.csrf_token === 'string' ? form.csrf_token : undefined);
      const decision = form.decision === 'approve' ? 'approve' : 'deny';
      const session = await deps.sessions.find(request.cookies[SESSION_COOKIE]);
      const outcome = await deps.authorization.consent(interaction, decision, request.ip, session, request.headers['user-agent']);
      return sendOutcome(request, reply, outcome, deps);
    },
  );
}
