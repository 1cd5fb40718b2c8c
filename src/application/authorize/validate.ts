import type { AuthorizationRequest } from '../../domain/authorization-request.js';
import { RESOURCE_SERVER_ONLY_INTROSPECTS } from '../../domain/introspection.js';
import { InvalidRequest, OAuthError, UnauthorizedClient } from '../../protocol/errors.js';
import { single, type RawParameters } from '../../protocol/parameters.js';
import { isRegisteredRedirectUri } from '../../protocol/redirect-uri.js';
import type { ClientRepository } from '../ports/repositories.js';
import type { IdTokenHints } from '../services/id-token-hint.js';
import { AuthorizationPageError, AuthorizationRedirectError } from './authorization-errors.js';
import { runChecks, type AuthorizationDraft } from './checks.js';

/**
 * Validates an authorization request in two phases:
 * 1. client_id and redirect_uri — any error here is shown on a page (never an open redirect);
 * 2. the check table — errors go back to the redirect_uri with state and iss.
 */
export async function validateAuthorizationRequest(
  params: RawParameters,
  clients: ClientRepository,
  context: { endpoint: 'auth' | 'par'; parRequired: boolean; idTokenHints: IdTokenHints },
): Promise<AuthorizationRequest> {
  const { clientId, redirectUri, client } = await trustedTarget(params, clients);
  let state: string | undefined;
  try {
    state = single(params, 'state', 2048);
  } catch {
    state = undefined; // a repeated state cannot be echoed; the error below says why
  }
  const fail = (error: OAuthError) => new AuthorizationRedirectError(error, redirectUri, state);

  const flat: Record<string, string | undefined> = {};
  for (const name of Object.keys(params)) {
    try {
      flat[name] = single(params, name);
    } catch (error) {
      throw fail(error as OAuthError);
    }
  }
  const draft: AuthorizationDraft = { client, params: flat, endpoint: context.endpoint, parRequired: context.parRequired };
  const error = runChecks(draft);
  if (error) throw fail(error);
  let idTokenHintSubject: string | undefined;
  if (flat.id_token_hint !== undefined) {
    try {
      idTokenHintSubject = await hintSubject(flat.id_token_hint, clientId, context.idTokenHints);
    } catch (error) {
      throw error instanceof OAuthError ? fail(error) : error;
    }
  }

  return {
    clientId,
    redirectUri,
    scopes: draft.scopes!,
    state,
    nonce: flat.nonce,
    codeChallenge: draft.codeChallenge!,
    prompt: draft.prompt ?? [],
    maxAge: draft.maxAge,
    uiLocales: flat.ui_locales,
    loginHint: flat.login_hint,
    idTokenHintSubject,
    dpopJkt: draft.dpopJkt,
  };
}

/**
 * OIDC Core §3.1.2.1: id_token_hint is an ID token this server issued to this client (expired
 * or not); the user it names is the one the request is about.
 */
async function hintSubject(hint: string, clientId: string, hints: IdTokenHints): Promise<string> {
  const { sub, aud } = await hints.verify(hint);
  if (!aud.includes(clientId)) throw new InvalidRequest('id_token_hint was not issued to this client');
  return sub;
}

async function trustedTarget(params: RawParameters, clients: ClientRepository) {
  const page = (description: string) => new AuthorizationPageError(new InvalidRequest(description));
  let clientId: string | undefined;
  let redirectUri: string | undefined;
  try {
    clientId = single(params, 'client_id', 128);
    redirectUri = single(params, 'redirect_uri');
  } catch (error) {
    throw new AuthorizationPageError(error as OAuthError);
  }
  if (clientId === undefined) throw page('client_id is required');
  const client = await clients.findById(clientId);
  if (client === undefined) throw page('client_id is not a registered client');
  if (client.resourceServer) throw new AuthorizationPageError(new UnauthorizedClient(RESOURCE_SERVER_ONLY_INTROSPECTS));
  // OIDC Core §3.1.2.1: redirect_uri is REQUIRED, and must exactly match a registered one.
  if (redirectUri === undefined) throw page('redirect_uri is required');
  if (!isRegisteredRedirectUri(redirectUri, client.redirectUris)) {
    throw page('redirect_uri is not registered for this client');
  }
  return { clientId, redirectUri, client };
}
