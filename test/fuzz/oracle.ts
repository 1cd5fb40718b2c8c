/**
 * What a correct answer to hostile input looks like, per endpoint (endpoints.fuzz.test.ts).
 * Each judge returns the rules the answer broke, as sentences; none means the answer is fine.
 *
 * Every answer: no 5xx; Cache-Control no-store; nothing internal in the body (no stack trace,
 * file path, exception name or driver message).
 *
 * JSON endpoints (/token, /par, /introspect, /revoke, /userinfo): a 4xx whose body is the
 * RFC 6749 §5.2 object — `error` from the endpoint's set, `error_description` made of
 * %x20-21 / %x23-5B / %x5D-7E only, nothing else but `error_uri`. Exceptions: /introspect
 * answers 200 `{"active":false}` and /revoke 200 with an empty body (RFC 7662 §2.2, RFC 7009
 * §2.2) — only when the client authenticated correctly. /userinfo's 401 carries
 * WWW-Authenticate (RFC 6750 §3) whose error_description obeys the same character set.
 *
 * /auth: either an HTML error page with a 4xx (client_id or redirect_uri cannot be trusted,
 * RFC 6749 §4.1.2.1), showing an error code from the set and a description in the same
 * character set, or a 303 to a registered redirect_uri carrying exactly error,
 * error_description, iss (RFC 9207) and the request's state (when it sent one state, once,
 * well-formed): never a code, never the login page, never an interaction.
 *
 * /logout: a 4xx error page; or, only when no id_token_hint was sent, the logged-out page
 * (200: there is no session) or a 303 to a registered post_logout_redirect_uri with at most
 * state. A hostile id_token_hint is always refused (RP-Initiated Logout §2: the OP MUST
 * validate that it issued the ID token).
 */

export type Endpoint = 'auth' | 'par' | 'token' | 'introspect' | 'revoke' | 'userinfo' | 'logout';

export interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/** RFC 6749 §5.2 error_description (and error) characters. */
export const ERROR_CHARS = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/;

const AUTHORIZATION_ERRORS = [
  // RFC 6749 §4.1.2.1
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  // OIDC Core §3.1.2.6
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
  'invalid_request_uri',
  'invalid_request_object',
  'request_not_supported',
  'request_uri_not_supported',
  'registration_not_supported',
  // RFC 8707 §2
  'invalid_target',
];

/** The error codes each endpoint may answer to a bad request (no server_error, no temporarily_unavailable). */
export const ERRORS: Record<Endpoint, readonly string[]> = {
  // RFC 6749 §5.2, RFC 8707 §2, RFC 9449 §5 and §8
  token: ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_target', 'invalid_dpop_proof', 'use_dpop_nonce'],
  // RFC 9126 §2.3: the token endpoint's client errors and the authorization errors
  par: [...AUTHORIZATION_ERRORS, 'invalid_client', 'invalid_dpop_proof', 'use_dpop_nonce'],
  // RFC 7662 §2.3 and RFC 7009 §2.2.1
  introspect: ['invalid_request', 'invalid_client', 'unauthorized_client'],
  revoke: ['invalid_request', 'invalid_client', 'unauthorized_client', 'unsupported_token_type'],
  // RFC 6750 §3.1, RFC 9449 §7.1
  userinfo: ['invalid_request', 'invalid_token', 'insufficient_scope', 'invalid_dpop_proof', 'use_dpop_nonce'],
  auth: AUTHORIZATION_ERRORS,
  logout: ['invalid_request'],
};

/** Text that only an internal failure puts in a body. */
const LEAKS: ReadonlyArray<[RegExp, string]> = [
  [/\n\s+at /, 'a stack trace'],
  [/node:internal|node_modules|\/src\/|\.ts:\d+|\.js:\d+/, 'a source path'],
  [/\b(TypeError|ReferenceError|RangeError|SyntaxError|SqliteError|URIError)\b/, 'an exception name'],
  [/SQLITE_|FST_ERR|ERR_[A-Z_]{4,}/, 'an internal error code'],
  [/Cannot read propert|is not a function|is not defined|undefined is not|Unexpected token|Maximum call stack/, 'an exception message'],
];

/** Tags a page must never contain: input echoed without escaping. */
const MARKUP = /<(script|img|svg|iframe|object|embed)\b/i;

function common(x: Exchange): string[] {
  const problems: string[] = [];
  if (x.status >= 500) problems.push(`status ${x.status} (a 5xx)`);
  if (x.status < 200) problems.push(`status ${x.status}`);
  if (!/\bno-store\b/.test(x.headers.get('cache-control') ?? '')) problems.push(`Cache-Control is ${JSON.stringify(x.headers.get('cache-control'))}, not no-store`);
  for (const [pattern, what] of LEAKS) if (pattern.test(x.body)) problems.push(`the body shows ${what}: ${JSON.stringify(x.body.slice(0, 300))}`);
  return problems;
}

function jsonError(endpoint: Endpoint, x: Exchange): string[] {
  const problems: string[] = [];
  if (x.status < 400 || x.status > 499) problems.push(`status ${x.status}, not a 4xx`);
  if (!/^application\/json\b/.test(x.headers.get('content-type') ?? '')) problems.push(`content-type ${JSON.stringify(x.headers.get('content-type'))}, not application/json`);
  let body: unknown;
  try {
    body = JSON.parse(x.body);
  } catch {
    return [...problems, `the body is not JSON: ${JSON.stringify(x.body.slice(0, 200))}`];
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [...problems, `the body is not a JSON object: ${x.body.slice(0, 200)}`];
  const { error, error_description: description, ...rest } = body as Record<string, unknown>;
  delete rest.error_uri;
  if (typeof error !== 'string' || !ERRORS[endpoint].includes(error)) problems.push(`error ${JSON.stringify(error)} is not one ${endpoint} may answer`);
  problems.push(...descriptionProblems(description));
  if (Object.keys(rest).length > 0) problems.push(`the error body has other members: ${Object.keys(rest).join(', ')}`);
  return problems;
}

function descriptionProblems(description: unknown): string[] {
  if (typeof description !== 'string') return [`error_description ${JSON.stringify(description)} is not a string`];
  if (!ERROR_CHARS.test(description)) return [`error_description has characters outside RFC 6749 §5.2: ${JSON.stringify(description)}`];
  return [];
}

/** RFC 6750 §3: the challenge of a protected resource; its error_description obeys §5.2 too. */
function challengeProblems(x: Exchange): string[] {
  const challenge = x.headers.get('www-authenticate');
  if (challenge === null) return x.status === 401 ? ['a 401 without WWW-Authenticate (RFC 6750 §3)'] : [];
  const problems: string[] = [];
  if (!/^(Bearer|DPoP) /.test(challenge)) problems.push(`WWW-Authenticate ${JSON.stringify(challenge)} is neither Bearer nor DPoP`);
  for (const match of challenge.matchAll(/(\w+)="([^"]*)"/g)) {
    if (match[2] !== '' && !ERROR_CHARS.test(match[2]!)) problems.push(`WWW-Authenticate ${match[1]} has characters outside RFC 6750 §3: ${JSON.stringify(match[2])}`);
  }
  const error = /error="([^"]*)"/.exec(challenge)?.[1];
  if (error !== undefined && !ERRORS.userinfo.includes(error)) problems.push(`WWW-Authenticate error ${JSON.stringify(error)} is not one userinfo may answer`);
  return problems;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'", '&#39;': "'", '&#x3D;': '=', '&#x60;': '`' };
const unescapeHtml = (text: string) => text.replace(/&(amp|lt|gt|quot|#x27|#39|#x3D|#x60);/g, (entity) => ENTITIES[entity]!);

/** The hosted error page (templates/error.hbs): `<code>error</code> description`. */
function errorPage(endpoint: Endpoint, x: Exchange): string[] {
  const problems: string[] = [];
  if (x.status < 400 || x.status > 499) problems.push(`status ${x.status}, not a 4xx`);
  if (!/^text\/html\b/.test(x.headers.get('content-type') ?? '')) problems.push(`content-type ${JSON.stringify(x.headers.get('content-type'))}, not text/html`);
  if (MARKUP.test(x.body)) problems.push('the page contains unescaped markup');
  const match = /<code>([^<]*)<\/code>\s*([^<]*)<\/p>/.exec(x.body);
  if (match === null) return [...problems, `not the error page: ${JSON.stringify(x.body.slice(0, 200))}`];
  const error = unescapeHtml(match[1]!);
  if (!ERRORS[endpoint].includes(error)) problems.push(`error ${JSON.stringify(error)} is not one ${endpoint} may answer`);
  problems.push(...descriptionProblems(unescapeHtml(match[2]!.trim())));
  return problems;
}

export interface ApiExpectation {
  /** The client authenticated correctly: /introspect and /revoke may answer 200. */
  readonly authenticated?: boolean;
}

export function judgeApi(endpoint: Exclude<Endpoint, 'auth' | 'logout'>, x: Exchange, expectation: ApiExpectation = {}): string[] {
  const problems = common(x);
  if (x.status === 200 && expectation.authenticated && endpoint === 'introspect') {
    // RFC 9701 §5: asked for, the same answer comes as a signed JWT (checked here for its content only).
    const signed = /^application\/token-introspection\+jwt\b/.test(x.headers.get('content-type') ?? '');
    const answer = signed ? signedIntrospection(x.body) : x.body;
    if (answer !== '{"active":false}') problems.push(`introspection of a hostile token answered ${x.body.slice(0, 300)}`);
    return problems;
  }
  if (x.status === 200 && expectation.authenticated && endpoint === 'revoke') {
    if (x.body !== '') problems.push(`revocation answered a body: ${x.body.slice(0, 200)}`);
    return problems;
  }
  problems.push(...jsonError(endpoint, x));
  if (endpoint === 'userinfo') problems.push(...challengeProblems(x));
  return problems;
}

/** The token_introspection member of a signed introspection response, as JSON text. */
function signedIntrospection(jwt: string): string {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as { token_introspection?: unknown };
    return JSON.stringify(payload.token_introspection);
  } catch {
    return jwt;
  }
}

export interface AuthExpectation {
  readonly issuer: string;
  /** Every registered redirect URI (an error may only go to one of these). */
  readonly redirectUris: readonly string[];
  /** The state the redirect must carry; null: none; undefined: not known (odd encoding). */
  readonly state: string | null | undefined;
}

export function judgeAuth(x: Exchange, expectation: AuthExpectation): string[] {
  const problems = common(x);
  if (x.status >= 300 && x.status < 400) return [...problems, ...authRedirect(x, expectation)];
  if (x.status === 200) return [...problems, `an invalid request was accepted: 200 ${JSON.stringify(x.body.slice(0, 120))}`];
  return [...problems, ...errorPage('auth', x)];
}

function authRedirect(x: Exchange, expectation: AuthExpectation): string[] {
  const problems: string[] = [];
  if (x.status !== 303) problems.push(`redirect status ${x.status}, not 303`);
  const location = x.headers.get('location') ?? '';
  let url: URL;
  try {
    url = new URL(location, expectation.issuer);
  } catch {
    return [`Location ${JSON.stringify(location)} is not a URL`];
  }
  const base = `${url.origin}${url.pathname}`;
  if (!expectation.redirectUris.includes(base)) return [`redirected to ${JSON.stringify(location.slice(0, 200))}, not an error to a registered redirect_uri`];
  const names = [...url.searchParams.keys()];
  for (const name of new Set(names)) {
    if (!['error', 'error_description', 'error_uri', 'state', 'iss'].includes(name)) problems.push(`the error redirect carries ${name}`);
    if (names.filter((n) => n === name).length > 1) problems.push(`the error redirect repeats ${name}`);
  }
  const error = url.searchParams.get('error');
  if (error === null || !ERRORS.auth.includes(error)) problems.push(`error ${JSON.stringify(error)} is not an authorization error`);
  problems.push(...descriptionProblems(url.searchParams.get('error_description') ?? undefined));
  // RFC 9207 §2
  if (url.searchParams.get('iss') !== expectation.issuer) problems.push(`iss is ${JSON.stringify(url.searchParams.get('iss'))}`);
  // RFC 6749 §4.1.2.1: state exactly as received, when the request had one.
  if (expectation.state !== undefined && url.searchParams.get('state') !== expectation.state) {
    problems.push(`state is ${JSON.stringify(url.searchParams.get('state')?.slice(0, 80))}, expected ${JSON.stringify(expectation.state?.slice(0, 80))}`);
  }
  return problems;
}

export interface LogoutExpectation {
  readonly issuer: string;
  readonly postLogoutRedirectUris: readonly string[];
  /** A (hostile) id_token_hint was sent: only an error will do. undefined: not known. */
  readonly hint: boolean | undefined;
}

export function judgeLogout(x: Exchange, expectation: LogoutExpectation): string[] {
  const problems = common(x);
  if (x.status >= 400) return [...problems, ...errorPage('logout', x)];
  if (expectation.hint === true) return [...problems, `a hostile id_token_hint was accepted: ${x.status} ${x.headers.get('location') ?? x.body.slice(0, 120)}`];
  if (x.status === 200) {
    // The logged-out page (templates/logged-out.hbs): no form, nothing to confirm.
    if (/<form\b/i.test(x.body)) problems.push('a 200 page with a form (a confirmation without a session?)');
    if (MARKUP.test(x.body)) problems.push('the page contains unescaped markup');
    return problems;
  }
  if (x.status === 303) {
    const location = x.headers.get('location') ?? '';
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      return [...problems, `Location ${JSON.stringify(location)} is not a URL`];
    }
    if (!expectation.postLogoutRedirectUris.includes(`${url.origin}${url.pathname}`)) problems.push(`redirected to an unregistered ${JSON.stringify(location.slice(0, 200))}`);
    for (const name of url.searchParams.keys()) if (name !== 'state') problems.push(`the logout redirect carries ${name}`);
    return problems;
  }
  return [...problems, `status ${x.status}`];
}

/**
 * What the server answers before any route runs (a header or request line over 16 KiB, a
 * method the endpoint does not take): the contract's framework errors — a 4xx with the
 * RFC 6749 §5.2 body and no-store (or, on a page route, the error page) — never a
 * framework-shaped body.
 */
export function judgeFrameworkError(endpoint: Endpoint, x: Exchange): string[] {
  const problems = common(x);
  if (/^text\/html\b/.test(x.headers.get('content-type') ?? '') && (endpoint === 'auth' || endpoint === 'logout')) return [...problems, ...errorPage(endpoint, x)];
  return [...problems, ...jsonError(endpoint, x)];
}
