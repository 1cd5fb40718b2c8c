import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PATHS } from '../../application/services/discovery.js';
import type { LogoutRequest } from '../../application/services/logout-service.js';
import { InvalidRequest } from '../../protocol/errors.js';
import { singleAll, type RawParameters } from '../../protocol/parameters.js';
import { constantTimeEqual, sha256 } from '../../protocol/random.js';
import { buildRedirect } from '../../protocol/redirect-uri.js';
import { SESSION_COOKIE } from '../cookies.js';
import type { HttpDeps } from '../deps.js';
import { negotiateLanguage } from '../plugins/language.js';

/**
 * RP-initiated logout (OIDC RP-Initiated Logout 1.0), GET or POST. With a live session the
 * user confirms first (contract: decision=confirm | cancel); then the session ends server-side,
 * the cookie is cleared, clients are told over the back channel, and the browser goes to the
 * registered post_logout_redirect_uri, if any.
 */
export async function logoutRoutes(app: FastifyInstance, { deps }: { deps: HttpDeps }) {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = ((request.method === 'POST' ? request.body : request.query) as RawParameters | undefined) ?? {};
    const params = singleAll(raw);
    const logout = await deps.logout.validate(params);
    const lang = negotiateLanguage(logout.uiLocales, request.headers['accept-language']);
    const cookie = request.cookies[SESSION_COOKIE];
    const session = await deps.sessions.find(cookie);
    reply.header('cache-control', 'no-store');

    // RP-Initiated Logout 1.0 §2–3: id_token_hint names the user to log out. A session of another
    // user is not this RP's to end: answer as without a session (no confirmation, nothing ended).
    const ours = session !== undefined && (logout.hintSubject === undefined || logout.hintSubject === session.userId);
    if (!ours || cookie === undefined) return finish(reply, logout, lang, 'logout.done');
    // The confirmation form posts back with a token only this browser's session cookie yields.
    const csrfToken = sha256(`logout:${cookie}`);
    // Only the confirmation form's POST decides; a decision in a URL just shows the page.
    if (params.decision === undefined || request.method !== 'POST') {
      return reply.page('logout', lang, {
        action: PATHS.endSession,
        csrfToken,
        clientName: logout.client?.clientName ?? logout.client?.clientId,
        hidden: hiddenFields(logout),
      });
    }
    if (params.csrf_token === undefined || !constantTimeEqual(params.csrf_token, csrfToken)) {
      throw new InvalidRequest('the logout form is invalid or expired; try again', 403);
    }
    if (params.decision !== 'confirm') return reply.page('logged-out', lang, messageKeys('logout.cancelled'));
    await deps.logout.end(cookie, request.ip, request.headers['user-agent']);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return finish(reply, logout, lang, 'logout.done');
  };
  app.get(PATHS.endSession, { config: { page: true } }, handler);
  app.post(PATHS.endSession, { config: { page: true } }, handler);
}

function finish(reply: FastifyReply, logout: LogoutRequest, lang: Parameters<FastifyReply['page']>[1], message: string) {
  if (logout.postLogoutRedirectUri !== undefined) {
    return reply.redirect(buildRedirect(logout.postLogoutRedirectUri, { state: logout.state }), 303);
  }
  return reply.page('logged-out', lang, messageKeys(message));
}

function messageKeys(message: string) {
  return { titleKey: `${message}_title`, leadKey: `${message}_lead` };
}

/** What the confirmation form carries back (re-validated on POST). */
function hiddenFields(logout: LogoutRequest): Array<{ name: string; value: string }> {
  const fields: Array<{ name: string; value: string | undefined }> = [
    { name: 'client_id', value: logout.client?.clientId },
    { name: 'post_logout_redirect_uri', value: logout.postLogoutRedirectUri },
    { name: 'state', value: logout.state },
    { name: 'ui_locales', value: logout.uiLocales },
  ];
  return fields.filter((f): f is { name: string; value: string } => f.value !== undefined);
}
