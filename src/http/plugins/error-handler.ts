import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AuthorizationPageError, AuthorizationRedirectError } from '../../application/authorize/authorization-errors.js';
import { DPOP_SIGNING_ALGS } from '../../protocol/dpop.js';
import { MAX_QUOTED_URI_LENGTH, quoteInput } from '../../protocol/error-description.js';
import {
  InsufficientScope,
  InvalidClient,
  InvalidDpopProof,
  InvalidRequest,
  InvalidToken,
  NotFound,
  OAuthError,
  ServerError,
  TemporarilyUnavailable,
  TooManyRequests,
  UseDpopNonce,
} from '../../protocol/errors.js';
import { buildRedirect } from '../../protocol/redirect-uri.js';
import { negotiateLanguage } from './language.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers with HTML pages: errors become an error page, not JSON. */
    page?: boolean;
    /** The route is a protected resource (RFC 6750, RFC 9449 §7): errors carry WWW-Authenticate. */
    bearer?: boolean;
  }
}

/** RFC 6750 §3: a request without any token gets a challenge without an error code. */
export class MissingAccessToken extends OAuthError {
  readonly error = 'invalid_request';
  override readonly status = 401;
}

/**
 * The one place that turns errors into responses: OAuth errors as RFC 6749 §5.2 JSON (API),
 * authorization errors as a redirect with iss (RFC 9207) or a page, framework errors as
 * invalid_request, and anything unexpected as server_error without its details.
 */
export const errorHandlerPlugin = fp(async (app: FastifyInstance, options: { issuer: string }) => {
  const { issuer } = options;

  app.setErrorHandler(async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AuthorizationRedirectError) {
      const { error: cause, redirectUri, state } = error;
      const location = buildRedirect(redirectUri, { error: cause.error, error_description: cause.description, state, iss: issuer });
      return reply.header('cache-control', 'no-store').redirect(location, 303);
    }
    if (error instanceof AuthorizationPageError) {
      return errorPage(request, reply, error.error);
    }
    const oauth = toOAuthError(error);
    if (oauth instanceof ServerError) {
      request.log.error({ err: error }, 'unexpected error');
    } else if (oauth.status >= 500) {
      // Every 5xx is a line an operator sees at the default level (docs/operations.md, "Logs"):
      // a bound that is full answers 503 temporarily_unavailable.
      request.log.warn({ status: oauth.status, error: oauth.error, error_description: oauth.description, route: request.routeOptions.url }, `answered ${oauth.status} ${oauth.error}`);
    }
    // RFC 9110 §10.2.3: when to try again.
    if (oauth instanceof TemporarilyUnavailable) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    // RFC 6585 §4: a rate limit (src/http/plugins/rate-limit.ts) says when its window ends.
    if (oauth instanceof TooManyRequests) reply.header('retry-after', String(oauth.retryAfter));
    if (request.routeOptions.config?.page) {
      // A person at the login form or /auth reads why and how long, in their language; never a
      // redirect (the redirect_uri is not verified before the limit is checked).
      if (oauth instanceof TooManyRequests) return reply.page('too-many-requests', pageLanguageOf(request), { seconds: oauth.retryAfter }, oauth.status);
      return errorPage(request, reply, oauth);
    }
    reply.code(oauth.status).header('cache-control', 'no-store').header('pragma', 'no-cache');
    if (oauth instanceof InvalidClient && oauth.basicChallenge) {
      reply.header('www-authenticate', `Basic realm="${issuer}"`);
    }
    // RFC 9449 §8 and §9: the nonce the proof must carry.
    if (oauth instanceof UseDpopNonce) reply.header('dpop-nonce', oauth.nonce);
    if (request.routeOptions.config?.bearer) {
      const dpop = isDpopError(oauth) || /^dpop /i.test(request.headers.authorization ?? '');
      // RFC 9449 §7.1 and §9: resource servers answer DPoP errors with 401 and a DPoP challenge.
      if (dpop && (oauth instanceof InvalidDpopProof || oauth instanceof UseDpopNonce)) reply.code(401);
      reply.header('www-authenticate', dpop ? dpopChallenge(issuer, oauth) : bearerChallenge(issuer, oauth));
    }
    return reply.send({ error: oauth.error, error_description: oauth.description });
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const error = new NotFound(`no endpoint at ${quoteInput(request.method)} ${quoteInput(path, MAX_QUOTED_URI_LENGTH)}`);
    return reply.code(404).header('cache-control', 'no-store').send({ error: 'invalid_request', error_description: error.description });
  });

  function errorPage(request: FastifyRequest, reply: FastifyReply, error: OAuthError) {
    return reply.page('error', pageLanguageOf(request), { error: error.error, description: error.description }, error.status);
  }

  /** ui_locales of a GET query (OIDC Core §3.1.2.1), then Accept-Language (a POST's form may not be parsed yet). */
  function pageLanguageOf(request: FastifyRequest) {
    const query = request.query as Record<string, unknown> | undefined;
    const uiLocales = typeof query?.ui_locales === 'string' ? query.ui_locales : undefined;
    return negotiateLanguage(uiLocales, request.headers['accept-language']);
  }
});

const DPOP_ALGS = DPOP_SIGNING_ALGS.join(' ');
/** A full bounded store or queue (PAR, replay cache, password hashing) drains within seconds. */
const RETRY_AFTER_SECONDS = 5;

export function isDpopError(error: OAuthError): boolean {
  return error instanceof InvalidDpopProof || error instanceof UseDpopNonce || (error instanceof InvalidToken && error.scheme === 'DPoP');
}

/**
 * RFC 6750 §3: WWW-Authenticate: Bearer realm, error, error_description. Without any token,
 * both schemes are offered (RFC 9449 §7.1).
 */
export function bearerChallenge(realm: string, error: OAuthError): string {
  if (error instanceof MissingAccessToken) return `Bearer realm="${realm}", DPoP algs="${DPOP_ALGS}"`;
  const code = error instanceof InvalidToken || error instanceof InsufficientScope ? error.error : 'invalid_request';
  return `Bearer realm="${realm}", error="${code}", error_description="${quoted(error.description)}"`;
}

/** RFC 9449 §7.1: WWW-Authenticate: DPoP error, error_description, algs. */
export function dpopChallenge(realm: string, error: OAuthError): string {
  const code = isDpopError(error) || error instanceof InvalidToken || error instanceof InsufficientScope ? error.error : 'invalid_request';
  return `DPoP realm="${realm}", error="${code}", error_description="${quoted(error.description)}", algs="${DPOP_ALGS}"`;
}

/** RFC 7235 §2.1 quoted-string; descriptions already exclude `"` and `\` (RFC 6749 §5.2), this stays as a guard. */
function quoted(description: string): string {
  return description.replace(/["\\]/g, "'");
}

/** Maps what Fastify itself raises (body, content type, parsing) to invalid_request. */
function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new InvalidRequest('the request body is too large', 413);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new InvalidRequest('the request body must be application/x-www-form-urlencoded');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new InvalidRequest('the Content-Length header does not match the body');
    default:
      break;
  }
  const status = fastifyError.statusCode;
  if (fastifyError.validation) return new InvalidRequest('the request is malformed');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new InvalidRequest('the request is malformed', status === 413 ? 413 : 400);
  }
  return new ServerError('an unexpected error occurred');
}
