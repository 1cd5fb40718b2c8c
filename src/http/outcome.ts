import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthorizationPageError } from '../application/authorize/authorization-errors.js';
import type { AuthorizationOutcome } from '../application/authorize/authorization-service.js';
import type { Interaction } from '../domain/authorization-request.js';
import type { Client } from '../domain/client.js';
import { InvalidRequest } from '../protocol/errors.js';
import { constantTimeEqual } from '../protocol/random.js';
import { INTERACTION_COOKIE, interactionCookieOptions } from './cookies.js';
import type { HttpDeps } from './deps.js';
import { negotiateLanguage } from './plugins/language.js';

/**
 * Sends what the authorization service decided. Redirects use 303 so that a POST is never
 * replayed to the next hop (FAPI 2.0 §5.3.2.2, RFC 9700 §4.11).
 */
export function sendOutcome(request: FastifyRequest, reply: FastifyReply, outcome: AuthorizationOutcome, deps: HttpDeps) {
  reply.header('cache-control', 'no-store');
  switch (outcome.kind) {
    case 'redirect':
      if (request.cookies[INTERACTION_COOKIE] !== undefined) reply.clearCookie(INTERACTION_COOKIE, { path: '/interaction' });
      return reply.redirect(outcome.location, 303);
    case 'interaction':
      reply.setCookie(INTERACTION_COOKIE, outcome.interaction.id, interactionCookieOptions(deps.secureCookies, deps.interactionTtl));
      return reply.redirect(`/interaction/${outcome.interaction.id}`, 303);
    case 'login':
      return renderLogin(request, reply, outcome.interaction, outcome.client, {});
    case 'consent':
      return renderConsent(request, reply, outcome.interaction, outcome.client);
  }
}

export function pageLanguage(request: FastifyRequest, interaction: Interaction) {
  return negotiateLanguage(interaction.request.uiLocales, request.headers['accept-language']);
}

export function renderLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  interaction: Interaction,
  client: Client,
  /** errorCount: the `count` of a plural message (login.too_many_attempts_*). */
  extra: { error?: string; errorCount?: number; username?: string },
  status = 200,
) {
  return reply.page(
    'login',
    pageLanguage(request, interaction),
    {
      action: `/interaction/${interaction.id}/login`,
      csrfToken: interaction.csrfToken,
      clientName: client.clientName ?? client.clientId,
      username: extra.username ?? interaction.request.loginHint ?? '',
      error: extra.error,
      errorCount: extra.errorCount,
    },
    status,
  );
}

export function renderConsent(request: FastifyRequest, reply: FastifyReply, interaction: Interaction, client: Client) {
  return reply.page('consent', pageLanguage(request, interaction), {
    action: `/interaction/${interaction.id}/consent`,
    csrfToken: interaction.csrfToken,
    clientName: client.clientName ?? client.clientId,
    scopes: interaction.request.scopes,
  });
}

const INTERACTION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * Loads the interaction named in the URL, only for the browser holding its cookie, only
 * before it expires. Anything else is a page error: the browser has no trusted redirect.
 */
export async function loadInteraction(request: FastifyRequest<{ Params: { id: string } }>, deps: HttpDeps): Promise<Interaction> {
  const id = request.params.id;
  const cookie = request.cookies[INTERACTION_COOKIE];
  const expired = () =>
    new AuthorizationPageError(new InvalidRequest('this sign-in request is unknown or expired; return to the application and try again'));
  if (!INTERACTION_ID.test(id) || cookie === undefined || !constantTimeEqual(cookie, id)) throw expired();
  const interaction = await deps.interactions.find(id);
  if (interaction === undefined || interaction.expiresAt <= deps.clock.now()) throw expired();
  return interaction;
}

/** Every hosted form carries the interaction's CSRF token. */
export function assertCsrf(interaction: Interaction, presented: string | undefined) {
  if (presented === undefined || !constantTimeEqual(presented, interaction.csrfToken)) {
    throw new AuthorizationPageError(new InvalidRequest('the form expired or was not sent by this site; go back and try again', 403));
  }
}
