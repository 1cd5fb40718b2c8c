import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';

/**
 * Generators of hostile input for the fuzz suite (endpoints.fuzz.test.ts): broken and hostile
 * JWTs (RFC 7515/7519 edge cases and the classic attacks on them), odd encodings of form and
 * query parameters, and the wrong content types. Everything here is pure: it builds strings.
 */

export const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** An ES256 key pair usable with node:crypto (raw signing: jose would refuse to sign half of these headers). */
export interface RawKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: Record<string, string>;
  readonly privateJwk: Record<string, string>;
}

export function makeRawKey(kid: string): RawKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const privateJwk = privateKey.export({ format: 'jwk' }) as Record<string, string>;
  return { kid, privateKey: createPrivateKey({ key: privateJwk, format: 'jwk' }), publicJwk, privateJwk };
}

export function signEs256(input: string, key: KeyObject): string {
  return sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

/** Changes the first character of a base64url signature (the last may only carry padding bits). */
export function flipSignature(jwt: string): string {
  const dot = jwt.lastIndexOf('.');
  const signature = jwt.slice(dot + 1);
  if (signature.length === 0) return jwt + 'AAAA';
  const first = signature[0] === 'A' ? 'B' : 'A';
  return jwt.slice(0, dot + 1) + first + signature.slice(1);
}

/** What the generators know about the server under test. */
export interface FuzzContext {
  readonly issuer: string;
  /** Registered client ids (hostile JWTs name them, so their checks run on a real client). */
  readonly clientIds: readonly string[];
  /** kids of the server's signing keys (hostile tokens name them, so the signature check runs). */
  readonly serverKids: readonly string[];
  /** The key registered for the private_key_jwt clients in `assertionClients`. */
  readonly clientKey: RawKey;
  readonly assertionClients: readonly string[];
  /** An attacker's key: the signature is valid, the key is not one the server trusts. */
  readonly attackerKey: RawKey;
  /** Real tokens issued during setup, mutated into hostile ones. */
  readonly realTokens: readonly string[];
}

const now = () => Math.floor(Date.now() / 1000);

/** Strings that have hurt parsers, routers, databases and templates before. */
export const NASTY_STRINGS = [
  '../../etc/passwd',
  '../../../../../../../../dev/zero',
  '..\\..\\windows\\win.ini',
  '/etc/passwd',
  'file:///etc/passwd',
  'http://169.254.169.254/latest/meta-data/',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  "' OR '1'='1' --",
  '"; DROP TABLE clients; --',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '${jndi:ldap://127.0.0.1:9/x}',
  '{{7*7}}',
  '%00',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ud83d',
  'é"\\',
  '\u202e\u0644',
  '\ufeff',
  '💩',
  '\r\nSet-Cookie: x=1',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  'Infinity',
  ' ',
  '\t',
  'A'.repeat(5000),
  'é'.repeat(3000),
];

/** Any string: random, unicode, or one of NASTY_STRINGS. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 9000 }).map((n) => 'x'.repeat(n)) },
);

/** Any JSON value, where a string, a number or an object is expected. */
export const hostileJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.constantFrom(0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2),
  fc.boolean(),
  fc.constant(null),
  fc.constant({}),
  fc.constant([]),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

const opt = <T>(arb: fc.Arbitrary<T>, freq = 2) => fc.option(arb, { nil: undefined, freq });

/** A JOSE header with any of the dangerous parameters. */
function headerArb(ctx: FuzzContext, typ: string): fc.Arbitrary<Record<string, unknown>> {
  const urls = fc.constantFrom('http://127.0.0.1:9/jwks.json', 'file:///etc/passwd', 'http://169.254.169.254/latest/meta-data/', 'https://attacker.example/jwks', '');
  return fc.record(
    {
      alg: fc.oneof(
        { weight: 4, arbitrary: fc.constant('ES256') },
        { weight: 3, arbitrary: fc.constantFrom('none', 'None', 'NONE', 'nOnE', 'HS256', 'HS512', 'RS256', 'PS256', 'EdDSA', 'ES512', 'ES256K', 'RSA-OAEP', 'dir', '') },
        { weight: 1, arbitrary: hostileJsonValue },
      ),
      typ: fc.oneof(
        { weight: 4, arbitrary: fc.constant(typ) },
        { weight: 2, arbitrary: fc.constantFrom('JWT', 'jwt', 'at+jwt', 'application/at+jwt', 'dpop+jwt', 'logout+jwt', 'client-authentication+jwt', 'JOSE') },
        { weight: 2, arbitrary: fc.constantFrom<unknown>(1, 0, true, false, {}, [], null, ['JWT'], { toUpperCase: 'x' }) },
        { weight: 1, arbitrary: hostileJsonValue },
      ),
      kid: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...ctx.serverKids, ctx.clientKey.kid) },
        { weight: 3, arbitrary: fc.constantFrom('../../etc/passwd', '../../../../../dev/zero', '/etc/passwd', '__proto__', 'constructor', 'toString', "' OR 1=1 --", '\u0000', '') },
        { weight: 2, arbitrary: fc.constantFrom<unknown>(1, true, {}, [], null, ['k'], { length: 1 }) },
        { weight: 1, arbitrary: hostileJsonValue },
      ),
      crit: fc.constantFrom<unknown>(['b64'], ['exp'], ['x-fuzz'], [], 'b64', [1], ['b64', 'b64'], ['alg']),
      b64: fc.constantFrom<unknown>(false, 'false', 0, true, null),
      'x-fuzz': fc.constant(true),
      jku: urls,
      x5u: urls,
      jwk: fc.constantFrom<unknown>(ctx.attackerKey.publicJwk, ctx.attackerKey.privateJwk, { kty: 'oct', k: 'AAAA' }, {}, 'jwk', [], { kty: 'EC', crv: 'P-256', x: 'bad', y: 'bad' }, { kty: 'RSA', n: 'AQAB', e: 'AQAB' }, null),
      x5c: fc.constantFrom<unknown>(['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'], 'x5c', [1], []),
      x5t: hostileString,
      cty: fc.constantFrom('JWT', 'json', 'application/jwt'),
      enc: fc.constantFrom('A128GCM', 'A256GCM'),
      zip: fc.constantFrom('DEF', 'GZIP'),
      p2c: fc.constantFrom(1_000_000_000, 2 ** 31),
    },
    { requiredKeys: [] },
  ).chain((header) =>
    // Most headers keep alg and typ (or the checks behind them never run); the record may drop them.
    fc.boolean().map((keep) => (keep ? { alg: 'ES256', typ, ...header } : header)),
  );
}

/** The claims of an assertion, a proof or a token, each almost right or wrong. */
function claimsArb(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  const t = now();
  const who = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ctx.clientIds) }, { weight: 1, arbitrary: fc.constant(ctx.issuer) }, { weight: 2, arbitrary: hostileJsonValue });
  const time = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(t + 60, t, t - 3600, t + 3600, t + 10 * 365 * 86400, 0, -1, 2 ** 53, 1e308) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(String(t + 60), `${t + 60}.5`, null, {}, [], true) },
    { weight: 1, arbitrary: hostileJsonValue },
  );
  return fc.record(
    {
      iss: who,
      sub: who,
      aud: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom<unknown>(ctx.issuer, `${ctx.issuer}/token`, [ctx.issuer], [ctx.issuer, 'https://evil.example'], [], `${ctx.issuer}/`) },
        { weight: 2, arbitrary: hostileJsonValue },
      ),
      exp: time,
      iat: time,
      nbf: time,
      jti: fc.oneof({ weight: 3, arbitrary: fc.uuid() }, { weight: 2, arbitrary: hostileJsonValue }),
      htm: fc.constantFrom<unknown>('POST', 'GET', 'post', 'DELETE', '', 1, null),
      htu: fc.constantFrom<unknown>(`${ctx.issuer}/token`, `${ctx.issuer}/par`, `${ctx.issuer}/userinfo`, `${ctx.issuer}/token?x=1#y`, 'http://evil/token', '', 1, {}),
      ath: hostileJsonValue,
      nonce: hostileJsonValue,
      cnf: fc.constantFrom<unknown>({ jkt: 'x' }, { jkt: 1 }, 'cnf', null, { jwk: ctx.attackerKey.publicJwk }),
      client_id: who,
      scope: fc.constantFrom<unknown>('openid', 'openid profile email', 'invoices:read', 'trusty:admin', '', 1, ['openid']),
      sid: hostileJsonValue,
      events: fc.constantFrom<unknown>({ 'http://schemas.openid.net/event/backchannel-logout': {} }, 'x', null),
      extra: hostileJsonValue,
    },
    { requiredKeys: [] },
  );
}

/** JSON text of a payload: an object of claims, or something an attacker sends instead. */
function payloadTextArb(ctx: FuzzContext): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: claimsArb(ctx).map((claims) => JSON.stringify(claims)) },
    // Deeply nested: a recursive parser or validator would blow its stack.
    { weight: 1, arbitrary: fc.tuple(claimsArb(ctx), fc.integer({ min: 100, max: 4000 })).map(([c, d]) => `${JSON.stringify(c).slice(0, -1)}${Object.keys(c).length ? ',' : ''}"deep":${'['.repeat(d)}${']'.repeat(d)}}`) },
    { weight: 1, arbitrary: fc.tuple(claimsArb(ctx), fc.integer({ min: 50, max: 1500 })).map(([c, d]) => JSON.stringify({ ...c, nested: JSON.parse('{"a":'.repeat(d) + '1' + '}'.repeat(d)) })) },
    // Huge: over and under the 8 KiB bounds.
    { weight: 1, arbitrary: fc.tuple(claimsArb(ctx), fc.integer({ min: 1000, max: 40_000 })).map(([c, n]) => JSON.stringify({ ...c, big: 'x'.repeat(n) })) },
    { weight: 1, arbitrary: fc.tuple(claimsArb(ctx), fc.integer({ min: 100, max: 2000 })).map(([c, n]) => JSON.stringify({ ...c, ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${i}`, i])) })) },
    // Not a claims object at all.
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'null',
        '[]',
        '1',
        '"claims"',
        'true',
        'not json',
        '{',
        '',
        `{"iss":"${ctx.clientIds[0]}","iss":"other"}`,
        `{"__proto__":{"admin":true},"iss":"${ctx.clientIds[0]}","sub":"${ctx.clientIds[0]}"}`,
        `\ufeff{"iss":"${ctx.clientIds[0]}"}`,
        '{"iss":"\\ud800"}',
        '{"exp":1e999}',
      ),
    },
  );
}

/** How a JWT is put together once header and payload exist. */
type Shape = 'compact' | 'one' | 'two' | 'four' | 'five' | 'empty' | 'bad-b64' | 'padded' | 'space' | 'raw-json' | 'jwe';
type Signing = 'none' | 'garbage' | 'attacker' | 'client' | 'flip';

function assemble(ctx: FuzzContext, header: Record<string, unknown> | string, payloadText: string, signing: Signing, shape: Shape): string {
  const h = typeof header === 'string' ? header : b64url(JSON.stringify(header));
  const p = b64url(payloadText);
  const input = `${h}.${p}`;
  let signature: string;
  switch (signing) {
    case 'none':
      signature = '';
      break;
    case 'garbage':
      signature = b64url(randomUUID() + randomUUID());
      break;
    case 'attacker':
      signature = signEs256(input, ctx.attackerKey.privateKey);
      break;
    case 'client':
      signature = signEs256(input, ctx.clientKey.privateKey);
      break;
    case 'flip':
      signature = flipSignature(`${input}.${signEs256(input, ctx.clientKey.privateKey)}`).split('.').pop()!;
      break;
  }
  const jwt = `${input}.${signature}`;
  switch (shape) {
    case 'compact':
      return jwt;
    case 'one':
      return h;
    case 'two':
      return input;
    case 'four':
      return `${jwt}.${signature}`;
    case 'five':
      return `${h}.${h}.${p}.${signature}.${signature}`;
    case 'empty':
      return `..${signature}`;
    case 'bad-b64':
      return `${h.slice(0, 5)}!*%${h.slice(5)}.${p}+/=.${signature}`;
    case 'padded':
      return `${Buffer.from(JSON.stringify(header)).toString('base64')}.${Buffer.from(payloadText).toString('base64')}.${signature}`;
    case 'space':
      return ` ${h} . ${p} . ${signature} `;
    case 'raw-json':
      return `${JSON.stringify(header)}.${payloadText}.${signature}`;
    case 'jwe':
      return `${h}.${b64url('key')}.${b64url('iv')}.${p}.${b64url('tag')}`;
  }
}

const shapeArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Shape>('compact') },
  { weight: 4, arbitrary: fc.constantFrom<Shape>('one', 'two', 'four', 'five', 'empty', 'bad-b64', 'padded', 'space', 'raw-json', 'jwe') },
);

/** A JWT anybody could forge: unsigned, badly signed or signed by a key the server does not trust. */
export function forgedJwt(ctx: FuzzContext, typ: string): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.oneof({ weight: 9, arbitrary: headerArb(ctx, typ) }, { weight: 1, arbitrary: fc.constantFrom<Record<string, unknown> | string>('', 'e30', '!!!', b64url('[]'), b64url('null'), b64url('{"alg":')) }),
      payloadTextArb(ctx),
      fc.constantFrom<Signing>('none', 'garbage', 'attacker', 'flip'),
      shapeArb,
    )
    .map(([header, payload, signing, shape]) => assemble(ctx, header, payload, signing, shape));
}

/** A real token of the server with its header or payload changed (its signature then no longer holds). */
export function mutatedRealToken(ctx: FuzzContext): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(...ctx.realTokens),
      fc.record(
        {
          alg: fc.constantFrom<unknown>('none', 'HS256', 'ES256', 'RS256', 1, null),
          typ: fc.constantFrom<unknown>(1, 0, true, false, {}, [], null, 'JWT', 'at+jwt', 'logout+jwt', { toUpperCase: 1 }),
          kid: fc.constantFrom<unknown>(...ctx.serverKids, '../../etc/passwd', '__proto__', 1, {}, null),
          crit: fc.constantFrom<unknown>(['b64'], ['x-fuzz'], 'b64'),
          b64: fc.constant(false),
          jku: fc.constant('http://127.0.0.1:9/jwks.json'),
          jwk: fc.constant<unknown>(ctx.attackerKey.publicJwk),
        },
        { requiredKeys: [] },
      ),
      opt(claimsArb(ctx), 1),
      fc.constantFrom('header', 'payload', 'both', 'signature', 'alg-none', 'truncate', 'append'),
    )
    .map(([token, headerChanges, claimChanges, where]) => {
      const [h, p, s] = token.split('.') as [string, string, string];
      const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
      const newHeader = b64url(JSON.stringify({ ...header, ...headerChanges }));
      const newPayload = b64url(JSON.stringify({ ...payload, ...claimChanges, exp: now() + 3600 }));
      let out: string;
      switch (where) {
        case 'header':
          out = `${newHeader}.${p}.${s}`;
          break;
        case 'payload':
          out = `${h}.${newPayload}.${s}`;
          break;
        case 'both':
          out = `${newHeader}.${newPayload}.${s}`;
          break;
        case 'alg-none':
          out = `${b64url(JSON.stringify({ ...header, alg: 'none' }))}.${newPayload}.`;
          break;
        case 'truncate':
          out = token.slice(0, token.length - 10);
          break;
        case 'append':
          out = `${token}.${s}`;
          break;
        default:
          out = flipSignature(token);
      }
      // Never the real token itself: a change that serialized to the same bytes gets a broken signature.
      return out === token || out.split('.').slice(0, 2).join('.') + '.' + s === token ? flipSignature(token) : out;
    });
}

/**
 * A client assertion signed with the client's registered key (so every check behind the
 * signature runs) that carries at least one defect for which RFC 7523 §3, RFC 7515 or
 * FAPI 2.0 §5.3.2.1 require refusal — whatever else the generators put in it.
 */
export function defectiveAssertion(ctx: FuzzContext): fc.Arbitrary<string> {
  const t = now();
  type Defect = (h: Record<string, unknown>, c: Record<string, unknown>) => Signing | void;
  const defects: Record<string, Defect> = {
    algNone: (h) => {
      h.alg = 'none';
      return 'none';
    },
    critUnknown: (h) => {
      h.crit = ['x-fuzz-unknown'];
      h['x-fuzz-unknown'] = true;
    },
    unencodedPayload: (h) => {
      h.crit = ['b64'];
      h.b64 = false;
    },
    typNotString: (h) => {
      h.typ = 1;
    },
    typObject: (h) => {
      h.typ = {};
    },
    typDpop: (h) => {
      h.typ = 'dpop+jwt';
    },
    kidUnknown: (h) => {
      h.kid = '../../etc/passwd';
    },
    expired: (_h, c) => {
      c.exp = t - 3600;
    },
    expNotNumber: (_h, c) => {
      c.exp = String(t + 60);
    },
    nbfFuture: (_h, c) => {
      c.nbf = t + 3600;
    },
    iatFuture: (_h, c) => {
      c.iat = t + 3600;
    },
    noJti: (_h, c) => {
      delete c.jti;
    },
    jtiNotString: (_h, c) => {
      c.jti = 1;
    },
    subOther: (_h, c) => {
      c.sub = `${String(c.iss)}-other`;
    },
    audOther: (_h, c) => {
      c.aud = 'https://evil.example';
    },
    audNumber: (_h, c) => {
      c.aud = 1;
    },
    badSignature: () => 'flip',
    attackerSignature: () => 'attacker',
  };
  const base = fc.record({
    alg: fc.constant('ES256'),
    kid: fc.constant(ctx.clientKey.kid),
  });
  return fc
    .tuple(
      fc.constantFrom(...ctx.assertionClients),
      base,
      fc.record(
        { typ: fc.constantFrom<unknown>('JWT', 'client-authentication+jwt'), jku: fc.constant('http://127.0.0.1:9/jwks.json'), x5u: fc.constant('file:///etc/passwd'), jwk: fc.constant(ctx.attackerKey.publicJwk) },
        { requiredKeys: [] },
      ),
      fc.record({ extra: hostileJsonValue, big: fc.integer({ min: 1, max: 6000 }).map((n) => 'x'.repeat(n)) }, { requiredKeys: [] }),
      fc.uniqueArray(fc.constantFrom(...Object.keys(defects)), { minLength: 1, maxLength: 3 }),
    )
    .map(([clientId, header, headerExtras, claimExtras, chosen]) => {
      const h: Record<string, unknown> = { ...header, ...headerExtras };
      const c: Record<string, unknown> = { iss: clientId, sub: clientId, aud: ctx.issuer, jti: randomUUID(), iat: t, exp: t + 60, ...claimExtras };
      let signing: Signing = 'client';
      for (const name of chosen) signing = defects[name]!(h, c) ?? signing;
      const input = `${b64url(JSON.stringify(h))}.${h.b64 === false ? JSON.stringify(c) : b64url(JSON.stringify(c))}`;
      if (signing === 'none') return `${input}.`;
      const key = signing === 'attacker' ? ctx.attackerKey.privateKey : ctx.clientKey.privateKey;
      const jwt = `${input}.${signEs256(input, key)}`;
      return signing === 'flip' ? flipSignature(jwt) : jwt;
    });
}

/** A DPoP proof: signed with the key in its own jwk header (as real proofs are), with hostile parts. */
export function hostileDpopProof(ctx: FuzzContext): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: forgedJwt(ctx, 'dpop+jwt') },
    {
      weight: 3,
      arbitrary: fc.tuple(headerArb(ctx, 'dpop+jwt'), payloadTextArb(ctx), fc.boolean()).map(([header, payload, embed]) => {
        const h = embed ? { ...header, jwk: ctx.attackerKey.publicJwk } : header;
        const input = `${b64url(JSON.stringify(h))}.${b64url(payload)}`;
        return `${input}.${signEs256(input, ctx.attackerKey.privateKey)}`;
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a,b', 'x.y.z, x.y.z', 'null', '\t') },
  );
}

/** Anything sent where a JWT is expected. */
export function hostileJwt(ctx: FuzzContext, typ: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: forgedJwt(ctx, typ) },
    { weight: 3, arbitrary: mutatedRealToken(ctx) },
    { weight: 2, arbitrary: defectiveAssertion(ctx) },
    { weight: 1, arbitrary: hostileString },
  );
}

/** Percent-encodes the UTF-8 bytes of a string (lone surrogates go out as U+FFFD, as any client's would). */
export function pct(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Raw text put into a query or form as is: broken percent-encoding, invalid UTF-8, separators. */
export const oddEncoding: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom('%', '%Z', '%ZZ', '%E9', '%ED%A0%80', '%ED%BF%BF', '%C0%AF', '%C0%80', '%F4%90%80%80', '%FF%FE', '%00', '%0A%0D', '%25', '+', '%2B', ';', '%u0041', '%%41', '%2', '%F0%9F'),
      fc.string({ unit: 'grapheme-ascii', maxLength: 6 }).map(pct),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(''));

/** One query or form parameter; `raw` values and keys are sent as they are (already encoded, or broken). */
export interface Param {
  readonly key: string;
  readonly value: string;
  readonly rawKey?: boolean;
  readonly rawValue?: boolean;
}

export function encodeParams(params: readonly Param[]): string {
  return params.map((p) => `${p.rawKey ? p.key : pct(p.key)}=${p.rawValue ? p.value : pct(p.value)}`).join('&');
}

/** The value the server decodes from a well-encoded parameter (lone surrogates become U+FFFD). */
export function wireValue(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

/**
 * Hostile changes to a list of parameters: repeat one, make one huge, break one's encoding,
 * add hostile extra parameters, drop one.
 */
export function mutateParams(base: readonly Param[], extraValues: fc.Arbitrary<string> = hostileString, hugeMax = 30_000): fc.Arbitrary<Param[]> {
  const index = fc.nat({ max: Math.max(0, base.length - 1) });
  const mutation = fc.oneof(
    fc.tuple(fc.constant('repeat' as const), index, extraValues),
    fc.tuple(fc.constant('huge' as const), index, fc.integer({ min: 4097, max: hugeMax }).map(String)),
    fc.tuple(fc.constant('odd' as const), index, oddEncoding),
    fc.tuple(fc.constant('odd-key' as const), index, oddEncoding),
    fc.tuple(fc.constant('hostile' as const), index, extraValues),
    fc.tuple(
      fc.constant('extra' as const),
      fc.constantFrom('__proto__', 'constructor', 'toString', 'client_id[]', 'a[b]', 'hasOwnProperty', 'request', 'request_uri', 'x'.repeat(300), '\u0000', ''),
      extraValues,
    ),
    fc.tuple(fc.constant('drop' as const), index, fc.constant('')),
    fc.tuple(fc.constant('empty' as const), index, fc.constant('')),
  );
  return fc.array(mutation, { minLength: 0, maxLength: 3 }).map((mutations) => {
    const params: Param[] = [...base];
    for (const [kind, at, value] of mutations) {
      const i = typeof at === 'number' ? Math.min(at, params.length - 1) : -1;
      const target = i >= 0 ? params[i] : undefined;
      switch (kind) {
        case 'repeat':
          if (target) params.push({ key: target.key, value });
          break;
        case 'huge':
          if (target) params[i] = { key: target.key, value: 'A'.repeat(Number(value)) };
          break;
        case 'odd':
          if (target) params[i] = { key: target.key, value, rawValue: true };
          break;
        case 'odd-key':
          if (target) params[i] = { key: pct(target.key) + value, value: target.value, rawKey: true };
          break;
        case 'hostile':
          if (target) params[i] = { key: target.key, value };
          break;
        case 'extra':
          params.push({ key: String(at), value });
          break;
        case 'drop':
          if (target) params.splice(i, 1);
          break;
        case 'empty':
          if (target) params[i] = { key: target.key, value: '' };
          break;
      }
    }
    return params;
  });
}

/** Content types for a form endpoint: mostly the right one, else anything a client gets wrong. */
export const contentTypeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant<string | undefined>('application/x-www-form-urlencoded') },
  {
    weight: 3,
    arbitrary: fc.constantFrom<string | undefined>(
      'application/x-www-form-urlencoded; charset=utf-8',
      'application/x-www-form-urlencoded; charset=iso-8859-1',
      'APPLICATION/X-WWW-FORM-URLENCODED',
      'application/json',
      'application/jwt',
      'text/plain',
      'text/html',
      'multipart/form-data; boundary=fuzz',
      'application/x-www-form-urlencoded, application/json',
      'application/x-www-form-urlencodedx',
      'application/xml',
      '*/*',
      '',
      undefined,
    ),
  },
);

/** How to send a form body: encoded form, as JSON, or cut off. */
export const bodyStyleArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant('form' as const) },
  { weight: 1, arbitrary: fc.constant('json' as const) },
  { weight: 1, arbitrary: fc.constant('oversized' as const) },
  { weight: 1, arbitrary: fc.constant('binary' as const) },
);

export function renderBody(params: readonly Param[], style: 'form' | 'json' | 'oversized' | 'binary'): Buffer {
  switch (style) {
    case 'form':
      return Buffer.from(encodeParams(params), 'latin1');
    case 'json':
      return Buffer.from(JSON.stringify(Object.fromEntries(params.map((p) => [p.key, p.value]))));
    case 'oversized':
      // Over BODY_LIMIT_BYTES (64 KiB): 413.
      return Buffer.from(`${encodeParams(params)}&pad=${'A'.repeat(70 * 1024)}`, 'latin1');
    case 'binary':
      return Buffer.concat([Buffer.from(encodeParams(params), 'latin1'), Buffer.from([0, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x0d, 0x0a])]);
  }
}

/** A header value fetch can send (no CR, LF or NUL; latin1 only). */
export function sendableHeader(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value) && value.trim() === value;
}
