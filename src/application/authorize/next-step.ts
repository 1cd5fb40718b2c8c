import type { AuthorizationRequest } from '../../domain/authorization-request.js';
import type { Client } from '../../domain/client.js';
import { isAuthenticationTooOld, type Session } from '../../domain/session.js';
import { ConsentRequired, LoginRequired } from '../../protocol/errors.js';

export type NextStep =
  | { readonly step: 'login' }
  | { readonly step: 'consent'; readonly userId: string; readonly authTime: number }
  | { readonly step: 'issue'; readonly userId: string; readonly authTime: number };

export interface NextStepInput {
  readonly request: AuthorizationRequest;
  readonly client: Client;
  readonly session: Session | undefined;
  /** Set when the user entered their password during this very interaction. */
  readonly interactionAuth: { readonly userId: string; readonly authTime: number } | undefined;
  readonly grantedScopes: readonly string[];
  readonly now: number;
}

/**
 * What the authorization endpoint does next (OIDC Core §3.1.2.1 prompt and max_age,
 * §3.1.2.4 consent). Throws login_required / consent_required under prompt=none.
 */
export function nextStep(input: NextStepInput): NextStep {
  const { request, client, session, now } = input;
  // OIDC Core §3.1.2.1 (errata 2): max_age=0 is equivalent to prompt=login. The password typed
  // in this interaction then satisfies it, whatever second it is now.
  const forceLogin = request.prompt.includes('login') || request.prompt.includes('select_account') || request.maxAge === 0;
  const maxAge = request.maxAge === 0 ? undefined : request.maxAge;
  // OIDC Core §3.1.2.1 id_token_hint: the session of a user other than the one the hint names
  // does not answer the request. A password typed in this interaction does: the user chose.
  const otherUser =
    input.interactionAuth === undefined && session !== undefined && request.idTokenHintSubject !== undefined && session.userId !== request.idTokenHintSubject;
  const sessionAuth = session && !forceLogin && !otherUser ? { userId: session.userId, authTime: session.authTime } : undefined;
  const auth = input.interactionAuth ?? sessionAuth;

  if (auth === undefined || isAuthenticationTooOld(auth.authTime, maxAge, now)) {
    if (request.prompt.includes('none')) {
      // §3.1.2.1: "If the End-User identified by the ID Token is not logged in … login_required".
      throw new LoginRequired(otherUser ? 'the signed-in user is not the subject of id_token_hint' : 'the user is not logged in');
    }
    return { step: 'login' };
  }

  const granted = new Set(input.grantedScopes);
  // prompt=consent asks for the page even for clients that skip it otherwise.
  const needsConsent =
    request.prompt.includes('consent') || (client.requireConsent && !request.scopes.every((scope) => granted.has(scope)));
  if (needsConsent) {
    if (request.prompt.includes('none')) throw new ConsentRequired('the user has not consented to this request');
    return { step: 'consent', ...auth };
  }
  return { step: 'issue', ...auth };
}
