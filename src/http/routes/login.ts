import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SESSION_COOKIE, sessionCookieOptions } from '../cookies.js';
import type { HttpDeps } from '../deps.js';
import { assertCsrf, loadInteraction, renderLogin, sendOutcome } from '../outcome.js';

type LoginForm = { username?: unknown; password?: unknown; csrf_token?: unknown };

/** The login form's POST (contract: fields username and password). */
export async function loginRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  app.post(
    '/interaction/:id/login',
    // Counted per address before the form is parsed (rate_limits.per_ip.login, src/http/plugins/rate-limit.ts).
    { config: { page: true, addressLimit: 'login' } },
    async (request: FastifyRequest<{ Params: { id: string }; Body: LoginForm | undefined }>, reply) => {
      const interaction = await loadInteraction(request, deps);
      const form = request.body ?? {};
      assertCsrf(interaction, text(form.csrf_token));
      const username = text(form.username) ?? '';
      const password = text(form.password) ?? '';
      const loggedIn = await deps.authorization.login(interaction, username, password, request.ip, request.headers['user-agent']);
      if (loggedIn.kind === 'wrong') {
        const client = await deps.authorization.clientOf(interaction);
        return renderLogin(request, reply, interaction, client, { error: 'login.invalid_credentials', username }, 401);
      }
      if (loggedIn.kind === 'refused') {
        // Too many failed logins in a row with this username, whether it names a user or not
        // (docs/lockout.md): the form again, with how long to wait; 429 and Retry-After
        // (RFC 6585 §4, RFC 9110 §10.2.3) for automation.
        const client = await deps.authorization.clientOf(interaction);
        reply.header('retry-after', String(loggedIn.retryAfter));
        return renderLogin(request, reply, interaction, client, { ...tooManyAttempts(loggedIn.retryAfter), username }, 429);
      }
      // A fresh cookie value at every login (no session fixation); the old row ends. The same user
      // keeps the OIDC sid and its clients, told nothing; another user's session ends as at logout.
      const previous = request.cookies[SESSION_COOKIE];
      const sid = previous === undefined ? undefined : await deps.logout.replace(previous, loggedIn.user.id, request.ip, request.headers['user-agent']);
      const { cookieValue, session } = await deps.sessions.start(loggedIn.user.id, sid);
      reply.setCookie(SESSION_COOKIE, cookieValue, sessionCookieOptions(deps.secureCookies, deps.sessionTtl));
      // Nothing left to ask: straight back to the client with the code, one hop fewer.
      // Otherwise post/redirect/get: the interaction page shows the consent form.
      const outcome = await deps.authorization.resume(loggedIn.interaction, session);
      if (outcome.kind === 'redirect') return sendOutcome(request, reply, outcome, deps);
      return reply.header('cache-control', 'no-store').redirect(`/interaction/${interaction.id}`, 303);
    },
  );
}

/** Seconds up to a minute and a half, minutes (rounded up) up to an hour and a half, hours (rounded up) beyond. */
function tooManyAttempts(retryAfter: number): { error: string; errorCount: number } {
  if (retryAfter <= 90) return { error: 'login.too_many_attempts_seconds', errorCount: retryAfter };
  if (retryAfter <= 90 * 60) return { error: 'login.too_many_attempts_minutes', errorCount: Math.ceil(retryAfter / 60) };
  return { error: 'login.too_many_attempts_hours', errorCount: Math.ceil(retryAfter / 3600) };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
