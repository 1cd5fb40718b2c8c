import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import * as oidc from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from '../support/browser.js';
import { basic, obtainCode, postForm } from '../support/flow.js';
import { POST_SECRET, WEB_SECRET, startServer, type TestServer } from '../support/server.js';
import {
  bodyStyleArb,
  contentTypeArb,
  defectiveAssertion,
  encodeParams,
  hostileDpopProof,
  hostileJwt,
  hostileString,
  makeRawKey,
  mutateParams,
  mutatedRealToken,
  oddEncoding,
  pct,
  renderBody,
  sendableHeader,
  wireValue,
  type FuzzContext,
  type Param,
} from './hostile.js';
import { judgeApi, judgeAuth, judgeLogout, judgeFrameworkError, type Endpoint, type Exchange } from './oracle.js';

/**
 * Property-based fuzzing of every endpoint that takes input from anyone (issue 12, finding 20):
 * generated hostile requests to /auth (GET and POST), /par, /token, /introspect, /revoke,
 * /userinfo and /logout against a listening server. For every answer the oracle (oracle.ts)
 * says what is acceptable; after every request nothing the server keeps has changed (see
 * fingerprint); after every property the server still issues a token and serves discovery.
 * Every generated request is invalid by construction (a defect that the RFCs require refusing,
 * whatever else is in it), so no success can be right.
 *
 * Reproducible: the seed is fixed (FUZZ_SEED overrides it, and a failure prints the seed and
 * the path of the shrunk counterexample: set FUZZ_SEED and FUZZ_PATH to replay it alone).
 * FUZZ_RUNS multiplies the runs (e.g. FUZZ_RUNS=10 for a long local run); FUZZ_IGNORE (a
 * regular expression) hides the problems it matches, to see what a known one hides. Bounded: each
 * property stops after PROPERTY_TIME_LIMIT_MS whatever its count of runs.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x7275_7374);
const PATH = process.env.FUZZ_PATH;
const RUNS_FACTOR = Number(process.env.FUZZ_RUNS ?? 1);
/** Triage only: problems matching this regular expression are not reported (to find what a known one hides). */
const IGNORE = process.env.FUZZ_IGNORE ? new RegExp(process.env.FUZZ_IGNORE) : undefined;
/** Runs per property (one request each): about 3,400 requests in all, 30 s on two idle cores. */
const RUNS = 400;
/** No property runs longer than this (shrinking a failure included): the suite stays under a minute. */
const PROPERTY_TIME_LIMIT_MS = 5_000;
/**
 * Header values and query string together stay under Node's 16 KiB limit on the request head
 * (over it, Node answers 431 before any route: see the oversized test).
 */
const MAX_HEADER_BYTES = 14_000;
/** One huge query parameter, and a whole query string, within that limit. */
const MAX_QUERY_VALUE = 10_000;
const MAX_QUERY = 13_000;
const fitsInQuery = (params: readonly Param[]) => encodeParams(params).length <= MAX_QUERY;

const CLIENT_KEY = makeRawKey('fuzz-client-key');
const ATTACKER_KEY = makeRawKey('fuzz-attacker-key');
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MACHINE_SECRET = 'machine-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const RP_SECRET = 'fuzz-rp-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const callback = (id: string) => `http://127.0.0.1:9/${id}/callback`;
const LOGGED_OUT = 'http://127.0.0.1:9/fuzz-rp/logged-out';

let server: TestServer;
let ctx: FuzzContext;
let db: Database.Database;
let browser: Browser;
let sessionCookie: string;
let redirectUris: string[];
/** The real refresh token (opaque), for hostile variants of it. */
let refreshToken: string;

const clientJwk = { ...CLIENT_KEY.publicJwk, kid: CLIENT_KEY.kid, alg: 'ES256', use: 'sig' };
const FUZZ_CLIENTS = [
  {
    client_id: 'fuzz-fapi',
    profile: 'fapi2',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [clientJwk] },
    redirect_uris: [callback('fuzz-fapi')],
    grant_types: ['authorization_code'],
    scope: 'openid profile',
    require_consent: false,
  },
  {
    client_id: 'fuzz-jwt',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [clientJwk] },
    redirect_uris: [callback('fuzz-jwt')],
    grant_types: ['authorization_code', 'client_credentials'],
    scope: 'openid invoices:read',
    require_consent: false,
  },
  {
    // Its keys are behind a URL nothing answers: the fetch fails fast and must stay a 401.
    client_id: 'fuzz-remote',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks_uri: 'http://127.0.0.1:9/jwks.json',
    grant_types: ['client_credentials'],
    scope: 'invoices:read',
  },
  {
    client_id: 'fuzz-rp',
    client_secret: RP_SECRET,
    redirect_uris: [callback('fuzz-rp')],
    post_logout_redirect_uris: [LOGGED_OUT],
    scope: 'openid',
    require_consent: false,
  },
];
const CLIENT_IDS = ['web-app', 'post-app', 'spa', 'legacy-rs256', 'machine', ...FUZZ_CLIENTS.map((c) => c.client_id)];

beforeAll(async () => {
  // Thousands of requests a minute from one address: the rate limits (test/e2e/rate-limits.test.ts) would answer 429 first.
  server = await startServer({ clients: FUZZ_CLIENTS, settings: { rate_limits: { enabled: false } } });
  db = new Database(server.dbPath, { readonly: true, fileMustExist: true });
  // Real tokens, to be mutated into hostile ones: an access token of each kind, an ID token, a refresh token.
  const machine = await postForm(server.issuer + '/token', { grant_type: 'client_credentials' }, { authorization: basic('machine', MACHINE_SECRET) });
  const flow = await obtainCode(server, 'web-app', { scope: 'openid profile offline_access', prompt: 'consent' });
  browser = flow.browser;
  sessionCookie = browser.cookie('trusty_session')!;
  const tokens = await postForm(
    server.issuer + '/token',
    { grant_type: 'authorization_code', code: flow.code, code_verifier: flow.verifier, redirect_uri: flow.redirectUri },
    { authorization: basic('web-app', WEB_SECRET) },
  );
  const jwks = (await (await fetch(server.issuer + '/.well-known/jwks.json')).json()) as { keys: Array<{ kid: string }> };
  const realTokens = [machine.json.access_token, tokens.json.access_token, tokens.json.id_token].map(String);
  for (const token of realTokens) expect(token.split('.')).toHaveLength(3);
  expect(sessionCookie).toBeDefined();
  ctx = {
    issuer: server.issuer,
    clientIds: CLIENT_IDS,
    serverKids: jwks.keys.map((k) => k.kid),
    clientKey: CLIENT_KEY,
    assertionClients: ['fuzz-fapi', 'fuzz-jwt', 'fuzz-remote'],
    attackerKey: ATTACKER_KEY,
    realTokens,
  };
  refreshToken = String(tokens.json.refresh_token);
  redirectUris = ['web-app', 'post-app', 'spa', 'legacy-rs256', 'fuzz-fapi', 'fuzz-jwt', 'fuzz-rp'].map(callback);
  console.info(`fuzz seed ${SEED}${PATH ? ` path ${PATH}` : ''} (FUZZ_SEED and FUZZ_PATH replay a failure)`);
});

afterAll(async () => {
  db?.close();
  await server?.close();
});

/** After each property: the server still serves a real client (a token) and discovery. */
afterEach(async () => {
  const token = await postForm(server.issuer + '/token', { grant_type: 'client_credentials', scope: 'invoices:read' }, { authorization: basic('machine', MACHINE_SECRET) });
  expect(token.status).toBe(200);
  expect(token.json.token_type).toBe('Bearer');
  const discovery = await fetch(server.issuer + '/.well-known/openid-configuration');
  expect(discovery.status).toBe(200);
  expect(((await discovery.json()) as { issuer: string }).issuer).toBe(server.issuer);
});

/**
 * Everything the server keeps, each table's rows hashed — but the audit log (refusals are
 * rightly recorded), the server's own secrets (rotated with time, not with requests) and any
 * single-use memory (a table of used jtis: remembering a proof presented with a correctly
 * authenticated but failing request is replay protection, not a change).
 */
function fingerprint(): Record<string, string> {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).filter(
    ({ name }) => !/^(sqlite_|kysely_)|^(audit_log|server_secrets)$|jti|replay/.test(name),
  );
  return Object.fromEntries(
    tables.map(({ name }) => {
      const rows = db.prepare(`SELECT * FROM "${name}"`).all().map((row) => JSON.stringify(row)).sort();
      return [name, `${rows.length} rows ${createHash('sha256').update(rows.join('\n')).digest('base64url').slice(0, 12)}`];
    }),
  );
}

/** The rows that changed between two fingerprints, named by table. */
function changes(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys({ ...before, ...after })
    .filter((table) => before[table] !== after[table])
    .map((table) => `${table}: ${before[table]} -> ${after[table]}`);
}

interface Request {
  readonly method: string;
  readonly path: string;
  readonly query?: string;
  readonly body?: Buffer;
  readonly headers?: Record<string, string | undefined>;
}

/** Sends one request as is (no redirect followed) and reads the whole answer. */
async function send(request: Request, headerBytes: number): Promise<Exchange> {
  const headers: Record<string, string> = {};
  let budget = headerBytes - (request.query?.length ?? 0);
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value === undefined) continue;
    // fetch refuses CR, LF, NUL and non-latin1 in headers: a client cannot send those either.
    const sendable = (sendableHeader(value) ? value : value.replace(/[^\t\x20-\x7e]/g, '?').trim()).slice(0, Math.max(0, budget));
    budget -= sendable.length;
    headers[name] = sendable;
  }
  const url = `${server.issuer}${request.path}${request.query !== undefined ? `?${request.query}` : ''}`;
  const response = await fetch(url, { method: request.method, headers, body: request.body, redirect: 'manual' });
  return { method: request.method, url, status: response.status, headers: response.headers, body: await response.text() };
}

/**
 * Sends a request line as raw latin1 bytes over a socket (fetch would normalize the target:
 * quotes, backslashes and bytes over 0x7f never reach a server through it).
 */
async function sendRaw(method: string, target: string): Promise<Exchange> {
  const { port } = new URL(server.issuer);
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    const body = method === 'POST' ? 'a=b' : '';
    const type = method === 'POST' ? 'content-type: application/x-www-form-urlencoded\r\n' : '';
    socket.end(Buffer.from(`${method} ${target} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${type}content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`, 'latin1'));
  });
  const text = raw.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let body = text.slice(split + 4);
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    let decoded = '';
    for (let rest = body; ; ) {
      const end = rest.indexOf('\r\n');
      const size = parseInt(rest.slice(0, end), 16);
      if (!(size > 0)) break;
      decoded += rest.slice(end + 2, end + 2 + size);
      rest = rest.slice(end + 2 + size + 2);
    }
    body = decoded;
  }
  return { method, url: target, status: Number(statusLine.split(' ')[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8') };
}

/** Sends the request, judges the answer, and checks that nothing the server keeps has changed. */
async function exchange(request: Request, judge: (x: Exchange) => string[], headerBytes = MAX_HEADER_BYTES): Promise<void> {
  const before = fingerprint();
  const x = await send(request, headerBytes);
  const problems = [...judge(x), ...changes(before, fingerprint()).map((c) => `state changed: ${c}`)].filter((p) => IGNORE === undefined || !IGNORE.test(p));
  if (problems.length > 0) {
    const body = request.body === undefined ? '' : ` body ${JSON.stringify(request.body.toString('latin1').slice(0, 600))}`;
    throw new Error(`${request.method} ${request.path} answered ${x.status}:\n- ${problems.join('\n- ')}\nrequest: query ${JSON.stringify(request.query?.slice(0, 600))}${body} headers ${JSON.stringify(request.headers ?? {}).slice(0, 600)}`);
  }
}

/** Runs a property with the fixed seed and bounds; logs how many runs fitted in the time limit. */
async function check<T>(arbitrary: fc.Arbitrary<T>, property: (value: T) => Promise<void>, runs = RUNS) {
  const details = await fc.check(fc.asyncProperty(arbitrary, property), {
    seed: SEED,
    ...(PATH !== undefined ? { path: PATH } : {}),
    numRuns: Math.round(runs * RUNS_FACTOR),
    interruptAfterTimeLimit: PROPERTY_TIME_LIMIT_MS * RUNS_FACTOR,
    markInterruptAsFailure: false,
  });
  const name = (expect.getState().currentTestName ?? '').split(' > ').pop()!.slice(0, 48);
  console.info(`fuzz "${name}…": ${details.numRuns} runs${details.interrupted ? ' (stopped at the time limit)' : ''}, seed ${details.seed}`);
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`${fc.defaultReportMessage(details)}\n\n${cause}`);
  }
}

// ---- Credentials -------------------------------------------------------------------------

interface Credentials {
  readonly params: Param[];
  readonly headers: Record<string, string>;
  /** A registered client's correct credentials, by exactly one method. */
  readonly valid: boolean;
}

const basicHeader = (id: string, secret: string) => `Basic ${Buffer.from(`${pct(id)}:${pct(secret)}`).toString('base64')}`;

/** Public clients: naming one is authenticating as it (token_endpoint_auth_method none). */
const PUBLIC_CLIENTS = ['spa', 'legacy-rs256'];

/**
 * Correct client authentication (never `machine`, whose client_credentials grant would
 * succeed): a confidential client's secret, or a public client's client_id.
 */
const validCredentials: fc.Arbitrary<Credentials> = fc.constantFrom<Credentials>(
  { params: [], headers: { authorization: basic('web-app', WEB_SECRET) }, valid: true },
  { params: [], headers: { authorization: basic('fuzz-rp', RP_SECRET) }, valid: true },
  { params: [{ key: 'client_id', value: 'post-app' }, { key: 'client_secret', value: POST_SECRET }], headers: {}, valid: true },
  { params: [{ key: 'client_id', value: 'spa' }], headers: {}, valid: true },
);

/** Credentials that must not authenticate anyone (RFC 6749 §2.3, RFC 7523 §3). */
function hostileCredentials(): fc.Arbitrary<Credentials> {
  const clientId = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...CLIENT_IDS) }, { weight: 1, arbitrary: hostileString });
  const one = fc.oneof(
    // client_secret_basic with a wrong secret, a hostile id, or a broken header.
    fc.tuple(clientId, hostileString).map(([id, secret]) => ({ params: [], headers: { authorization: basicHeader(id, secret) } })),
    fc
      .constantFrom('Basic', 'Basic ', 'Basic !!!', 'Basic Og==', 'Basic OmE=', 'Basic YTo=', `Basic ${'A'.repeat(2000)}`, 'Bearer x', 'Digest username="web-app"', 'basic d2ViLWFwcDo=', 'Basic %ZZ')
      .map((authorization) => ({ params: [], headers: { authorization } })),
    fc.tuple(clientId, oddEncoding).map(([id, secret]) => ({ params: [], headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`, 'latin1').toString('base64')}` } })),
    // client_secret_post with a wrong secret.
    fc.tuple(clientId, hostileString).map(([id, secret]) => ({ params: [{ key: 'client_id', value: id }, { key: 'client_secret', value: secret }], headers: {} })),
    // private_key_jwt with a hostile or defective assertion.
    fc
      .tuple(
        fc.oneof({ weight: 3, arbitrary: hostileJwt(ctx, 'JWT') }, { weight: 3, arbitrary: defectiveAssertion(ctx) }),
        fc.oneof({ weight: 4, arbitrary: fc.constant(ASSERTION_TYPE) }, { weight: 1, arbitrary: hostileString }),
        fc.option(clientId, { nil: undefined }),
      )
      .map(([assertion, type, id]) => ({
        params: [...(id !== undefined ? [{ key: 'client_id', value: id }] : []), { key: 'client_assertion_type', value: type }, { key: 'client_assertion', value: assertion }],
        headers: {},
      })),
    // none: a confidential client naming itself without a secret, or an unknown one.
    clientId.filter((id) => !PUBLIC_CLIENTS.includes(id)).map((id) => ({ params: [{ key: 'client_id', value: id }], headers: {} })),
    fc.constant({ params: [], headers: {} }),
  );
  // Sometimes two methods at once (RFC 6749 §2.3: MUST NOT).
  return fc.array(one, { minLength: 1, maxLength: 2 }).map((list) => ({
    params: list.flatMap((c) => c.params),
    headers: Object.assign({}, ...list.map((c) => c.headers)) as Record<string, string>,
    valid: false,
  }));
}

/** A POST of form parameters, with the content type and body style fast-check picked. */
function formRequest(path: string, params: Param[], headers: Record<string, string | undefined>, contentType: string | undefined, style: Parameters<typeof renderBody>[1]): Request {
  return { method: 'POST', path, body: renderBody(params, style), headers: { 'content-type': contentType, ...headers } };
}

/** Whether the body reaches the route as a form: the form media type, under the size limit. */
function isForm(contentType: string | undefined, style: string): boolean {
  return contentType !== undefined && /^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType) && style !== 'oversized';
}

const dpopHeader = () => fc.option(hostileDpopProof(ctx), { nil: undefined, freq: 3 });

// ---- Authorization requests ----------------------------------------------------------------

/**
 * Changes that make an authorization request invalid whatever else it carries
 * (RFC 6749 §4.1.1 and §4.1.2.1, RFC 7636 §4.3, OIDC Core §3.1.2.1, RFC 9126, RFC 9101).
 */
function authorizationDefect(endpoint: 'auth' | 'par'): fc.Arbitrary<(params: Param[]) => Param[]> {
  const set = (key: string, value: fc.Arbitrary<string>) => value.map((v) => (params: Param[]) => [...params.filter((p) => p.key !== key), { key, value: v }]);
  const drop = (key: string) => fc.constant((params: Param[]) => params.filter((p) => p.key !== key));
  const repeat = (key: string) => hostileString.map((v) => (params: Param[]) => [...params.filter((p) => p.key !== key), { key, value: 'a' }, { key, value: v || 'b' }]);
  const defects = [
    set('response_type', fc.oneof(fc.constantFrom('token', 'id_token', 'code id_token', 'code token', 'CODE', 'code ', 'none'), hostileString.map((v) => `x${v}`))),
    drop('response_type'),
    drop('code_challenge'),
    set('code_challenge_method', fc.oneof(fc.constantFrom('plain', 's256', 'S512', 'none'), hostileString.map((v) => `x${v}`))),
    set('code_challenge', fc.constantFrom('short', 'x'.repeat(129), '!'.repeat(43), '')),
    // (Every scope outside the client's is refused, RFC 6749 §3.3; a scope starting with x is none of theirs.)
    set('scope', fc.oneof(fc.constantFrom('openid admin', 'trusty:admin', 'openid openid2', '\u0000', 'openid\tprofile'), hostileString.map((v) => `openid x${v}`))),
    set('redirect_uri', fc.constantFrom('https://evil.example/callback', 'http://127.0.0.1:9/web-app/callback/../x', 'http://127.0.0.1:9/web-app/callback?x=1', 'javascript:alert(1)')),
    set('request', hostileJwt(ctx, 'oauth-authz-req+jwt')),
    set('prompt', fc.oneof(fc.constantFrom('bogus', 'none login', 'login none', 'select_account\u0000', 'é"\\<script>'), hostileString.map((v) => `x${v}`))),
    set('max_age', fc.oneof(fc.constantFrom('-1', 'abc', '1e3', '99999999999', '1.5', ' 1'), hostileString.map((v) => `x${v}`))),
    set('dpop_jkt', fc.constantFrom('short', '!'.repeat(43), 'x'.repeat(44))),
    set('response_mode', fc.oneof(fc.constantFrom('fragment', 'form_post', 'jwt', 'query.jwt'), hostileString.map((v) => `x${v}`))),
    set('nonce', fc.constant('n'.repeat(513))),
    set('state', fc.constant('s'.repeat(2049))),
    set('login_hint', fc.constant('h'.repeat(257))),
    set('ui_locales', fc.constant('fr '.repeat(100))),
    repeat('scope'),
    repeat('response_type'),
    repeat('code_challenge'),
    repeat('nonce'),
  ];
  if (endpoint === 'par') {
    defects.push(set('request_uri', fc.constantFrom('urn:ietf:params:oauth:request_uri:x', 'https://evil.example/r')));
    defects.push(set('client_id', fc.constantFrom('spa', 'other', '__proto__')));
  } else {
    defects.push(set('client_id', fc.constantFrom('unknown', '__proto__', 'constructor', '', 'web-app\u0000', 'x'.repeat(129))));
    defects.push(drop('client_id'));
    defects.push(drop('redirect_uri'));
    defects.push(repeat('client_id'));
    defects.push(repeat('redirect_uri'));
    // No session: prompt=none cannot be satisfied (OIDC Core §3.1.2.6 login_required), hint or no hint.
    defects.push(fc.constant((params: Param[]) => [...params.filter((p) => p.key !== 'prompt'), { key: 'prompt', value: 'none' }]));
    defects.push(hostileJwt(ctx, 'JWT').map((hint) => (params: Param[]) => [...params.filter((p) => p.key !== 'prompt' && p.key !== 'id_token_hint'), { key: 'prompt', value: 'none' }, { key: 'id_token_hint', value: hint }]));
    defects.push(
      fc
        .constantFrom('urn:ietf:params:oauth:request_uri:unknown', 'urn:ietf:params:oauth:request_uri:', 'https://evil.example/request', '../../etc/passwd', 'urn:ietf:params:oauth:request_uri:' + 'A'.repeat(43))
        .map((uri) => (params: Param[]) => [...params.filter((p) => p.key !== 'request_uri'), { key: 'request_uri', value: uri }]),
    );
  }
  // Values a server may be tempted to echo (RFC 6749 §5.2 limits what error_description may carry) come more often.
  const echoed = ['response_type', 'code_challenge_method', 'scope', 'prompt', 'max_age', 'response_mode'].map((key) =>
    set(key, hostileString.map((v) => (key === 'scope' ? `openid x${v}` : `x${v}`))),
  );
  return fc.oneof(...defects, ...echoed);
}

/** A valid authorization request for one of the clients, before hostile changes. */
function authorizationBase(clientIds: readonly string[]): fc.Arbitrary<Param[]> {
  return fc
    .tuple(
      fc.constantFrom(...clientIds),
      fc.option(fc.oneof(hostileString, oddEncoding.map((s) => `raw:${s}`)), { nil: undefined }),
      fc.option(hostileString, { nil: undefined }),
      fc.option(fc.constantFrom('login', 'consent', 'select_account'), { nil: undefined }),
    )
    .map(([clientId, state, nonce, prompt]) => {
      const params: Param[] = [
        { key: 'client_id', value: clientId },
        { key: 'redirect_uri', value: callback(clientId) },
        { key: 'response_type', value: 'code' },
        { key: 'scope', value: 'openid' },
        { key: 'code_challenge', value: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' },
        { key: 'code_challenge_method', value: 'S256' },
      ];
      if (state !== undefined) params.push(state.startsWith('raw:') ? { key: 'state', value: state.slice(4), rawValue: true } : { key: 'state', value: state });
      if (nonce !== undefined) params.push({ key: 'nonce', value: nonce });
      if (prompt !== undefined) params.push({ key: 'prompt', value: prompt });
      return params;
    });
}

/** The state the error redirect must carry: the one well-formed state sent, if any. */
function expectedState(params: readonly Param[]): string | null | undefined {
  if (params.some((p) => p.rawKey || (p.rawValue && p.key === 'state') || p.key === 'request_uri')) return undefined;
  const states = params.filter((p) => p.key === 'state');
  if (states.length !== 1) return null;
  const value = wireValue(states[0]!.value);
  return value === '' || value.length > 2048 ? null : value;
}

const authorizationRequest = (endpoint: 'auth' | 'par', clientIds: readonly string[], hugeMax: number) =>
  fc
    .tuple(authorizationBase(clientIds), authorizationDefect(endpoint))
    .chain(([base, defect]) => mutateParams(base, hostileString, hugeMax).map((params) => defect(params)));

// ---- The properties ----------------------------------------------------------------------

describe('fuzz: hostile input never gets more than a clean 4xx, and changes nothing', () => {
  it('/token: hostile client authentication, grants, parameters, DPoP proofs and content types', async () => {
    const grant = fc.oneof(
      fc.tuple(hostileString, fc.oneof(fc.constant('a'.repeat(43)), hostileString)).map(([code, verifier]): Param[] => [
        { key: 'grant_type', value: 'authorization_code' },
        { key: 'code', value: code || 'c' },
        { key: 'code_verifier', value: verifier },
        { key: 'redirect_uri', value: callback('web-app') },
      ]),
      fc
        .oneof(hostileString, mutatedRealToken(ctx), fc.constantFrom(`${refreshToken}x`, refreshToken.slice(1), refreshToken.toUpperCase(), ` ${refreshToken}`))
        .map((token): Param[] => [{ key: 'grant_type', value: 'refresh_token' }, { key: 'refresh_token', value: token || 'r' }]),
      hostileString.map((scope): Param[] => [{ key: 'grant_type', value: 'client_credentials' }, { key: 'scope', value: scope }]),
      hostileJwt(ctx, 'JWT').map((assertion): Param[] => [{ key: 'grant_type', value: 'urn:ietf:params:oauth:grant-type:jwt-bearer' }, { key: 'assertion', value: assertion }]),
      fc.oneof(hostileString, fc.constantFrom('password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange', 'CLIENT_CREDENTIALS')).map((type): Param[] => [{ key: 'grant_type', value: type }]),
      fc.constant<Param[]>([]),
    );
    const resources = fc.array(fc.oneof(hostileString, fc.constantFrom('https://api.example.com/', 'https://api.example.com/#frag', 'urn:x', '/relative')), { maxLength: 3 });
    await check(
      fc.tuple(grant, resources, fc.oneof({ weight: 1, arbitrary: validCredentials }, { weight: 3, arbitrary: hostileCredentials() }), dpopHeader(), contentTypeArb, bodyStyleArb).chain(([g, r, credentials, dpop, contentType, style]) =>
        mutateParams([...g, ...r.map((value) => ({ key: 'resource', value }))]).map((params) => ({ params: [...params, ...credentials.params], credentials, dpop, contentType, style })),
      ),
      async ({ params, credentials, dpop, contentType, style }) => {
        await exchange(formRequest('/token', params, { ...credentials.headers, dpop }, contentType, style), (x) => judgeApi('token', x));
      },
    );
  });

  it('/par: hostile authorization requests, client authentication, DPoP proofs and content types', async () => {
    await check(
      fc.tuple(authorizationRequest('par', ['web-app', 'fuzz-rp', 'post-app', 'spa', 'fuzz-fapi'], 30_000), fc.oneof(validCredentials, hostileCredentials()), dpopHeader(), contentTypeArb, bodyStyleArb),
      async ([params, credentials, dpop, contentType, style]) => {
        await exchange(formRequest('/par', [...params, ...credentials.params], { ...credentials.headers, dpop }, contentType, style), (x) => judgeApi('par', x));
      },
    );
  });

  it('GET /auth: invalid authorization requests with hostile values and encodings', async () => {
    await check(authorizationRequest('auth', ['web-app', 'spa', 'fuzz-fapi', 'fuzz-jwt', 'legacy-rs256'], MAX_QUERY_VALUE).filter(fitsInQuery), async (params) => {
      await exchange({ method: 'GET', path: '/auth', query: encodeParams(params) }, (x) =>
        judgeAuth(x, { issuer: server.issuer, redirectUris, state: expectedState(params) }),
      );
    });
  });

  it('POST /auth: invalid authorization requests as forms, with the wrong content types too', async () => {
    await check(
      fc.tuple(authorizationRequest('auth', ['web-app', 'spa', 'fuzz-fapi', 'post-app'], 30_000), contentTypeArb, bodyStyleArb),
      async ([params, contentType, style]) => {
        const form = isForm(contentType, style);
        await exchange(formRequest('/auth', params, {}, contentType, style), (x) =>
          judgeAuth(x, { issuer: server.issuer, redirectUris, state: form && style === 'form' ? expectedState(params) : undefined }),
        );
      },
    );
  });

  it('/introspect and /revoke: hostile tokens, hints and client authentication', async () => {
    const token = fc.oneof(
      { weight: 4, arbitrary: hostileJwt(ctx, 'at+jwt') },
      { weight: 3, arbitrary: mutatedRealToken(ctx) },
      { weight: 1, arbitrary: fc.constantFrom(`${refreshToken}x`, refreshToken.slice(0, -1), refreshToken.toLowerCase(), `${refreshToken}.x.y`) },
    );
    const hint = fc.option(fc.oneof(fc.constantFrom('access_token', 'refresh_token', 'id_token', 'urn:x'), hostileString), { nil: undefined });
    await check(
      fc
        .tuple(fc.constantFrom('/introspect' as const, '/revoke' as const), token, hint, fc.oneof(validCredentials, hostileCredentials()), contentTypeArb, bodyStyleArb, fc.option(fc.constantFrom('application/token-introspection+jwt', 'application/json', '*/*'), { nil: undefined }))
        .chain(([path, t, h, credentials, contentType, style, accept]) =>
          mutateParams([{ key: 'token', value: t || 't' }, ...(h !== undefined ? [{ key: 'token_type_hint', value: h }] : [])]).map((params) => ({ path, params, credentials, contentType, style, accept })),
        ),
      async ({ path, params, credentials, contentType, style, accept }) => {
        const authenticated = credentials.valid && isForm(contentType, style);
        await exchange(formRequest(path, [...params, ...credentials.params], { ...credentials.headers, accept }, contentType, style), (x) =>
          judgeApi(path === '/introspect' ? 'introspect' : 'revoke', x, { authenticated }),
        );
      },
    );
  });

  it('/userinfo: hostile bearer and DPoP tokens, proofs, schemes and query tokens', async () => {
    const token = fc.oneof({ weight: 3, arbitrary: hostileJwt(ctx, 'at+jwt') }, { weight: 3, arbitrary: mutatedRealToken(ctx) });
    const authorization = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constantFrom('Bearer', 'DPoP', 'bearer', 'dpop', 'BEARER'), token).map(([scheme, t]) => `${scheme} ${t}`) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('Bearer', 'DPoP', 'Bearer  ', 'Basic', 'MAC', 'Bearer\t', ''), hostileString).map(([scheme, t]) => `${scheme} ${t}`) },
      { weight: 1, arbitrary: fc.constantFrom('Bearer', 'DPoP', 'Bearer ', 'Bearer a b', 'Bearer a,Bearer b', 'Bearer ====', `Bearer ${'A'.repeat(9000)}`, `Basic ${Buffer.from('web-app:x').toString('base64')}`) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );
    await check(
      fc.tuple(fc.constantFrom('GET' as const, 'POST' as const), authorization, dpopHeader(), fc.option(token.filter((t) => fitsInQuery([{ key: 'access_token', value: t }])), { nil: undefined }), contentTypeArb),
      async ([method, auth, dpop, queryToken, contentType]) => {
        const params: Param[] = queryToken === undefined ? [] : [{ key: 'access_token', value: queryToken }];
        const request: Request =
          method === 'GET'
            ? { method, path: '/userinfo', query: params.length ? encodeParams(params) : undefined, headers: { authorization: auth, dpop } }
            : formRequest('/userinfo', params, { authorization: auth, dpop }, contentType, 'form');
        await exchange(request, (x) => judgeApi('userinfo', x));
      },
    );
  });

  it('/logout: hostile id_token_hint, client_id, post_logout_redirect_uri and encodings, GET and POST', async () => {
    const hint = fc.oneof({ weight: 3, arbitrary: mutatedRealToken(ctx) }, { weight: 3, arbitrary: hostileJwt(ctx, 'JWT') });
    const base = fc
      .tuple(
        fc.option(hint, { nil: undefined, freq: 4 }),
        fc.option(fc.oneof(fc.constantFrom('web-app', 'fuzz-rp', 'spa', 'unknown'), hostileString), { nil: undefined }),
        fc.option(fc.oneof(fc.constantFrom(LOGGED_OUT, `${LOGGED_OUT}/x`, 'https://evil.example/'), hostileString), { nil: undefined }),
        fc.option(hostileString, { nil: undefined }),
        fc.option(fc.oneof(fc.constantFrom('fr', 'en fr', 'xx'), hostileString), { nil: undefined }),
      )
      .map(([h, clientId, redirect, state, locales]) => {
        const params: Param[] = [];
        if (h !== undefined) params.push({ key: 'id_token_hint', value: h || 'h' });
        if (clientId !== undefined) params.push({ key: 'client_id', value: clientId });
        if (redirect !== undefined) params.push({ key: 'post_logout_redirect_uri', value: redirect });
        if (state !== undefined) params.push({ key: 'state', value: state });
        if (locales !== undefined) params.push({ key: 'ui_locales', value: locales });
        return params;
      });
    await check(
      fc.tuple(fc.constantFrom('GET' as const, 'POST' as const), base.chain((b) => mutateParams(b, hostileString, MAX_QUERY_VALUE)).filter(fitsInQuery), contentTypeArb),
      async ([method, params, contentType]) => {
        const request: Request = method === 'GET' ? { method, path: '/logout', query: encodeParams(params) } : formRequest('/logout', params, {}, contentType, 'form');
        const hints = params.filter((p) => p.key === 'id_token_hint' && !p.rawKey);
        // A hint that is well-formed on the wire and not empty is surely sent; an odd one may decode to nothing.
        const hint = hints.some((p) => !p.rawValue && wireValue(p.value) !== '') ? true : hints.length === 0 && !params.some((p) => p.rawKey) ? false : undefined;
        await exchange(request, (x) => judgeLogout(x, { issuer: server.issuer, postLogoutRedirectUris: [LOGGED_OUT], hint }));
      },
    );
  });

  it('a signed-in browser: a hostile id_token_hint at /auth (prompt=none) and /logout never acts', async () => {
    const hint = fc.oneof({ weight: 3, arbitrary: mutatedRealToken(ctx) }, { weight: 2, arbitrary: hostileJwt(ctx, 'JWT') }).filter((h) => pct(h).length <= MAX_QUERY_VALUE);
    const cookie = `trusty_session=${sessionCookie}`;
    // RP-Initiated Logout: the confirmation form's token is derived from the session cookie (routes/logout.ts).
    const csrf = createHash('sha256').update(`logout:${sessionCookie}`).digest('base64url');
    await check(
      fc.tuple(fc.constantFrom('auth', 'logout-get', 'logout-confirm'), hint, fc.option(fc.constantFrom('web-app', 'fuzz-rp'), { nil: undefined })),
      async ([where, h, clientId]) => {
        if (where === 'auth') {
          // OIDC Core §3.1.2.2: a hint that names no signed-in user must not yield a code (login_required or another error).
          const params: Param[] = [
            { key: 'client_id', value: 'web-app' },
            { key: 'redirect_uri', value: callback('web-app') },
            { key: 'response_type', value: 'code' },
            { key: 'scope', value: 'openid' },
            { key: 'code_challenge', value: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' },
            { key: 'code_challenge_method', value: 'S256' },
            { key: 'state', value: 'fuzz-state' },
            { key: 'prompt', value: 'none' },
            { key: 'id_token_hint', value: h || 'h' },
          ];
          await exchange({ method: 'GET', path: '/auth', query: encodeParams(params), headers: { cookie } }, (x) =>
            judgeAuth(x, { issuer: server.issuer, redirectUris, state: 'fuzz-state' }),
          );
          return;
        }
        const params: Param[] = [{ key: 'id_token_hint', value: h || 'h' }, ...(clientId ? [{ key: 'client_id', value: clientId }] : [])];
        const request: Request =
          where === 'logout-get'
            ? { method: 'GET', path: '/logout', query: encodeParams(params), headers: { cookie } }
            : formRequest('/logout', [...params, { key: 'decision', value: 'confirm' }, { key: 'csrf_token', value: csrf }], { cookie }, 'application/x-www-form-urlencoded', 'form');
        await exchange(request, (x) => judgeLogout(x, { issuer: server.issuer, postLogoutRedirectUris: [LOGGED_OUT], hint: true }));
      },
      120,
    );
    // The session survived: the same browser still gets a code without logging in.
    const verifier = oidc.randomPKCECodeVerifier();
    const url = new URL(server.issuer + '/auth');
    for (const [k, v] of Object.entries({ client_id: 'web-app', redirect_uri: callback('web-app'), response_type: 'code', scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', prompt: 'none' })) url.searchParams.set(k, v);
    const page = await browser.get(url.href);
    expect(new URL(page.url).searchParams.get('code')).toBeTruthy();
  });
});

describe('fuzz: requests the endpoints do not take', () => {
  it('another method on an endpoint gets a clean JSON 4xx', async () => {
    const paths = ['/auth', '/par', '/token', '/introspect', '/revoke', '/userinfo', '/logout'] as const;
    await check(fc.tuple(fc.constantFrom(...paths), fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'FUZZ')), async ([path, method]) => {
      // (fetch itself refuses TRACE, TRACK and CONNECT.)
      const request: Request = { method, path, body: Buffer.from('a=b'), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
      await exchange(request, (x) => judgeFrameworkError(path.slice(1) as Endpoint, x));
    }, 30);
  });

  it('a hostile request target (raw bytes, quotes, traversal, broken encodings) gets a clean JSON 4xx', async () => {
    const piece = fc.oneof(
      fc.constantFrom('"', '\\', "'", '<script>', '%00', '%ZZ', '%', '%E9', '%ED%A0%80', '..', '/..%2f..%2fetc/passwd', '//', ';', '%2e%2e/', '\u00e9', '\u00ff', '{{7*7}}', '$', '`'),
      fc.string({ unit: 'grapheme-ascii', maxLength: 8 }).map((t) => t.replace(/[\s#?]/g, '')),
    );
    await check(
      fc.tuple(fc.constantFrom('GET', 'POST'), fc.constantFrom('/', '/auth', '/token', '/par', '/introspect', '/revoke', '/userinfo', '/logout', '/.well-known/'), fc.array(piece, { minLength: 1, maxLength: 4 })),
      async ([method, prefix, pieces]) => {
        const target = `${prefix}${prefix.endsWith('/') ? '' : '/'}${pieces.join('')}`;
        const before = fingerprint();
        const x = await sendRaw(method, target);
        const problems = [...judgeFrameworkError('token', x), ...changes(before, fingerprint()).map((c) => `state changed: ${c}`)].filter((p) => IGNORE === undefined || !IGNORE.test(p));
        if (problems.length > 0) throw new Error(`${method} ${JSON.stringify(target)} answered ${x.status}:\n- ${problems.join('\n- ')}`);
      },
      60,
    );
  });

  it('an oversized header or request line gets a clean 4xx from every endpoint, not a framework-shaped body', async () => {
    const endpoints = [
      ['GET', '/auth'],
      ['POST', '/auth'],
      ['POST', '/par'],
      ['POST', '/token'],
      ['POST', '/introspect'],
      ['POST', '/revoke'],
      ['GET', '/userinfo'],
      ['POST', '/userinfo'],
      ['GET', '/logout'],
      ['POST', '/logout'],
    ] as const;
    await check(
      fc.tuple(fc.constantFrom(...endpoints), fc.constantFrom('authorization', 'dpop', 'cookie', 'x-fuzz', 'query'), fc.integer({ min: 17 * 1024, max: 64 * 1024 })),
      async ([[method, path], where, size]) => {
        const big = 'A'.repeat(size);
        const request: Request =
          where === 'query'
            ? { method, path, query: `state=${big}` }
            : { method, path, headers: { [where]: where === 'authorization' ? `Bearer ${big}` : where === 'cookie' ? `trusty_session=${big}` : big, 'content-type': method === 'POST' ? 'application/x-www-form-urlencoded' : undefined }, body: method === 'POST' ? Buffer.from('a=b') : undefined };
        await exchange(request, (x) => judgeFrameworkError(path.slice(1) as Endpoint, x), Infinity);
      },
      20,
    );
  });
});
