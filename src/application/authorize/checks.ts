import { requiresPushedRequests, type Client } from '../../domain/client.js';
import { PROMPT_VALUES, type Prompt } from '../../domain/authorization-request.js';
import { parseScope, scopesOutside } from '../../domain/scope.js';
import {
  InvalidRequest,
  InvalidScope,
  RequestNotSupported,
  UnauthorizedClient,
  UnsupportedResponseType,
  type OAuthError,
} from '../../protocol/errors.js';
import { isJwkThumbprint } from '../../protocol/dpop.js';
import { quoteInput } from '../../protocol/error-description.js';
import { assertCodeChallenge } from '../../protocol/pkce.js';

/** The request as the checks build it up, once client_id and redirect_uri are trusted. */
export interface AuthorizationDraft {
  readonly client: Client;
  readonly params: Readonly<Record<string, string | undefined>>;
  /** Where the request arrived: the browser at /auth, or the client's back channel at /par. */
  readonly endpoint: 'auth' | 'par';
  /** Config par.required: every client must push its requests. */
  readonly parRequired: boolean;
  dpopJkt?: string;
  scopes?: string[];
  codeChallenge?: string;
  prompt?: Prompt[];
  maxAge?: number;
}

export type AuthorizationCheck = (draft: AuthorizationDraft) => void;

const MAX_NONCE = 512;
const MAX_STATE = 2048;
const MAX_HINT = 256;

/**
 * Request objects (JAR) are not offered (OIDC Core §6.1); request_uri only names a pushed
 * request, resolved before these checks (application/authorize/pushed-requests.ts).
 */
const checkRequestObject: AuthorizationCheck = ({ params, endpoint }) => {
  if (params.request !== undefined) throw new RequestNotSupported('the request parameter is not supported');
  // RFC 9126 §2.1: request_uri MUST NOT be provided in a pushed request. (At /auth it was resolved before.)
  if (params.request_uri !== undefined && endpoint === 'par') throw new InvalidRequest('request_uri must not be sent to the pushed authorization request endpoint');
};

/** RFC 9126 §5–6 and FAPI 2.0 §5.3.2.2: some clients may only send pushed requests. */
const checkPushedRequestRequired: AuthorizationCheck = ({ client, endpoint, parRequired }) => {
  if (endpoint === 'auth' && requiresPushedRequests(client, parRequired)) {
    throw new InvalidRequest('this client must use a pushed authorization request (PAR)');
  }
};

/** RFC 9449 §10: dpop_jkt binds the code to a DPoP key. */
const checkDpopJkt: AuthorizationCheck = (draft) => {
  const value = draft.params.dpop_jkt;
  if (value === undefined) return;
  if (!isJwkThumbprint(value)) throw new InvalidRequest('dpop_jkt must be a base64url SHA-256 JWK thumbprint');
  draft.dpopJkt = value;
};

/** RFC 6749 §3.1.1; Trusty issues codes only (response_type=code). */
const checkResponseType: AuthorizationCheck = ({ params }) => {
  if (params.response_type === undefined) throw new InvalidRequest('response_type is required');
  if (params.response_type !== 'code') throw new UnsupportedResponseType('response_type must be code');
};

/** OAuth 2.0 Multiple Response Types §2.1: only query is offered (FAPI 2.0 forbids fragment). */
const checkResponseMode: AuthorizationCheck = ({ params }) => {
  if (params.response_mode !== undefined && params.response_mode !== 'query') {
    throw new InvalidRequest('response_mode must be query');
  }
};

const checkGrantType: AuthorizationCheck = ({ client }) => {
  if (!client.grantTypes.includes('authorization_code')) {
    throw new UnauthorizedClient('the client is not allowed to use the authorization_code grant');
  }
};

/** RFC 6749 §3.3: every requested scope must be one the client may ask for. */
const checkScope: AuthorizationCheck = (draft) => {
  const { params, client } = draft;
  if (params.scope === undefined) throw new InvalidRequest('scope is required');
  const scopes = parseScope(params.scope);
  if (scopes === undefined || scopes.length === 0) throw new InvalidScope('scope is malformed');
  const refused = scopesOutside(scopes, client.scopes);
  if (refused.length > 0) throw new InvalidScope(`scope not allowed for this client: ${refused.map((s) => quoteInput(s)).join(' ')}`);
  draft.scopes = scopes;
};

/** RFC 7636 §4.3, required for every client. */
const checkPkce: AuthorizationCheck = (draft) => {
  draft.codeChallenge = assertCodeChallenge(draft.params.code_challenge, draft.params.code_challenge_method);
};

/** OIDC Core §3.1.2.1: prompt values; none must stand alone. */
const checkPrompt: AuthorizationCheck = (draft) => {
  const raw = draft.params.prompt;
  const values = raw === undefined ? [] : [...new Set(raw.split(' ').filter(Boolean))];
  for (const value of values) {
    if (!(PROMPT_VALUES as readonly string[]).includes(value)) throw new InvalidRequest(`prompt value ${quoteInput(value)} is not supported`);
  }
  if (values.includes('none') && values.length > 1) throw new InvalidRequest('prompt none must not be combined with other values');
  draft.prompt = values as Prompt[];
};

/** OIDC Core §3.1.2.1: max_age is a non-negative number of seconds. */
const checkMaxAge: AuthorizationCheck = (draft) => {
  const raw = draft.params.max_age;
  if (raw === undefined) return;
  if (!/^\d{1,10}$/.test(raw)) throw new InvalidRequest('max_age must be a non-negative integer');
  draft.maxAge = Number(raw);
};

const checkLengths: AuthorizationCheck = ({ params }) => {
  if (params.nonce !== undefined && params.nonce.length > MAX_NONCE) throw new InvalidRequest(`nonce is longer than ${MAX_NONCE} characters`);
  if (params.state !== undefined && params.state.length > MAX_STATE) throw new InvalidRequest(`state is longer than ${MAX_STATE} characters`);
  if (params.login_hint !== undefined && params.login_hint.length > MAX_HINT) throw new InvalidRequest(`login_hint is longer than ${MAX_HINT} characters`);
  if (params.ui_locales !== undefined && params.ui_locales.length > MAX_HINT) throw new InvalidRequest(`ui_locales is longer than ${MAX_HINT} characters`);
};

/** RFC 7515 §7.1 JWS Compact Serialization: three base64url parts (an ID token is one). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * OIDC Core §3.1.2.1 id_token_hint: its shape is checked here; its signature and claims after
 * the table (validate.ts), since that needs the server's keys.
 */
const checkIdTokenHint: AuthorizationCheck = ({ params }) => {
  const hint = params.id_token_hint;
  if (hint !== undefined && !COMPACT_JWS.test(hint)) throw new InvalidRequest('id_token_hint is not an ID token issued by this server');
};

/**
 * The authorization endpoint's checks, in the order they run. Each throws the OAuth error
 * that is returned to the (already validated) redirect_uri.
 */
export const AUTHORIZATION_CHECKS: ReadonlyArray<readonly [name: string, check: AuthorizationCheck]> = [
  ['checkRequestObject', checkRequestObject],
  ['checkPushedRequestRequired', checkPushedRequestRequired],
  ['checkResponseType', checkResponseType],
  ['checkResponseMode', checkResponseMode],
  ['checkGrantType', checkGrantType],
  ['checkLengths', checkLengths],
  ['checkScope', checkScope],
  ['checkPkce', checkPkce],
  ['checkPrompt', checkPrompt],
  ['checkMaxAge', checkMaxAge],
  ['checkIdTokenHint', checkIdTokenHint],
  ['checkDpopJkt', checkDpopJkt],
];

export function runChecks(draft: AuthorizationDraft): OAuthError | undefined {
  for (const [, check] of AUTHORIZATION_CHECKS) {
    try {
      check(draft);
    } catch (error) {
      return error as OAuthError;
    }
  }
  return undefined;
}
