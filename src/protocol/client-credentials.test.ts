import { describe, expect, it } from 'vitest';
import { claimedClientId, extractClientCredentials } from './client-credentials.js';
import { InvalidClient, InvalidRequest, type OAuthError } from './errors.js';

/** RFC 6749 §2.3.1: each part is application/x-www-form-urlencoded, then the pair is base64'd (RFC 7617). */
function basic(clientId: string, secret: string): string {
  const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`, 'utf8').toString('base64')}`;
}

/** A Basic header carrying `decoded` as is (no form-encoding), for malformed inputs. */
function rawBasic(decoded: string): string {
  return `Basic ${Buffer.from(decoded, 'utf8').toString('base64')}`;
}

function failure(authorization: string | undefined, body: Record<string, string | undefined>) {
  try {
    extractClientCredentials(authorization, body);
  } catch (error) {
    const e = error as OAuthError;
    return {
      type: e.constructor,
      error: e.error,
      status: e.status,
      description: e.description,
      basicChallenge: e instanceof InvalidClient ? e.basicChallenge : undefined,
    };
  }
  throw new Error('the credentials were accepted');
}

const MALFORMED_BASIC = {
  type: InvalidClient,
  error: 'invalid_client',
  status: 401,
  description: 'malformed HTTP Basic credentials',
  // RFC 6749 §5.2: the client used Basic, so the 401 must carry WWW-Authenticate: Basic.
  basicChallenge: true,
};

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('extractClientCredentials: client_secret_basic (RFC 6749 §2.3.1)', () => {
  it('reads the client_id and secret of a Basic header', () => {
    expect(extractClientCredentials(basic('app', 's3cret'), {})).toEqual({ method: 'client_secret_basic', clientId: 'app', secret: 's3cret' });
  });

  it('form-urldecodes both parts, so a colon, + and space survive', () => {
    expect(extractClientCredentials(basic('my:client', 'p@ss word+%'), {})).toEqual({
      method: 'client_secret_basic',
      clientId: 'my:client',
      secret: 'p@ss word+%',
    });
    expect(extractClientCredentials(rawBasic('a+b:c%3Ad'), {})).toEqual({ method: 'client_secret_basic', clientId: 'a b', secret: 'c:d' });
  });

  it('splits on the first colon only: an unencoded colon stays in the secret', () => {
    expect(extractClientCredentials(rawBasic('app:se:cret'), {})).toEqual({ method: 'client_secret_basic', clientId: 'app', secret: 'se:cret' });
  });

  it('decodes UTF-8 credentials', () => {
    expect(extractClientCredentials(basic('clé', 'mot de passe ü'), {})).toEqual({ method: 'client_secret_basic', clientId: 'clé', secret: 'mot de passe ü' });
  });

  it('matches the scheme case-insensitively (RFC 9110 §11.1) and tolerates extra spaces', () => {
    const token = Buffer.from('app:s3cret').toString('base64');
    const expected = { method: 'client_secret_basic', clientId: 'app', secret: 's3cret' };
    expect(extractClientCredentials(`basic ${token}`, {})).toEqual(expected);
    expect(extractClientCredentials(`BASIC   ${token}  `, {})).toEqual(expected);
  });

  it('accepts base64 without its padding', () => {
    const token = Buffer.from('app:s3cret1').toString('base64');
    expect(token.endsWith('=')).toBe(true);
    expect(extractClientCredentials(`Basic ${token.replace(/=+$/, '')}`, {})).toEqual({ method: 'client_secret_basic', clientId: 'app', secret: 's3cret1' });
  });

  it('accepts a client_id in the body that repeats the header', () => {
    expect(extractClientCredentials(basic('app', 's3cret'), { client_id: 'app' })).toEqual({ method: 'client_secret_basic', clientId: 'app', secret: 's3cret' });
  });

  it('refuses a client_id in the body that differs from the header', () => {
    expect(failure(basic('app', 's3cret'), { client_id: 'other' })).toEqual({
      type: InvalidRequest,
      error: 'invalid_request',
      status: 400,
      description: 'client_id in the body does not match the Authorization header',
      basicChallenge: undefined,
    });
  });

  it.each([
    ['an empty token', 'Basic '],
    ['a token with characters outside base64', 'Basic !!!!'],
    ['a base64url token', `Basic ${Buffer.from('app:s3cret??>').toString('base64url')}`],
    ['a token longer than 1024 characters', `Basic ${'A'.repeat(1025)}`],
    ['no colon', rawBasic('app')],
    ['an empty client_id', rawBasic(':s3cret')],
    ['an empty secret', rawBasic('app:')],
    ['a broken percent-encoding in the client_id', rawBasic('a%zz:s3cret')],
    ['a broken percent-encoding in the secret', rawBasic('app:%E0%A4%A')],
  ])('refuses %s with invalid_client and a Basic challenge', (_name, authorization) => {
    expect(failure(authorization, {})).toEqual(MALFORMED_BASIC);
  });
});

describe('extractClientCredentials: credentials in the body', () => {
  it('reads client_secret_post (RFC 6749 §2.3.1)', () => {
    expect(extractClientCredentials(undefined, { client_id: 'app', client_secret: 's3cret' })).toEqual({
      method: 'client_secret_post',
      clientId: 'app',
      secret: 's3cret',
    });
  });

  it('reads private_key_jwt (RFC 7523 §2.2), with or without client_id', () => {
    expect(extractClientCredentials(undefined, { client_id: 'app', client_assertion: 'a.b.c', client_assertion_type: JWT_BEARER })).toEqual({
      method: 'private_key_jwt',
      clientId: 'app',
      assertion: 'a.b.c',
      assertionType: JWT_BEARER,
    });
    expect(extractClientCredentials(undefined, { client_assertion: 'a.b.c' })).toEqual({
      method: 'private_key_jwt',
      clientId: undefined,
      assertion: 'a.b.c',
      assertionType: undefined,
    });
  });

  it('reads a public client (none) from its client_id alone', () => {
    expect(extractClientCredentials(undefined, { client_id: 'spa' })).toEqual({ method: 'none', clientId: 'spa' });
  });

  it('ignores an Authorization header of another scheme', () => {
    expect(extractClientCredentials('Bearer abc', { client_id: 'spa' })).toEqual({ method: 'none', clientId: 'spa' });
  });

  it.each([
    ['no credentials at all', undefined, {}],
    ['a client_secret without client_id', undefined, { client_secret: 's3cret' }],
    ['another scheme and no client_id', 'Bearer abc', {}],
  ])('requires a client_id when there is %s', (_name, authorization, body) => {
    expect(failure(authorization, body)).toEqual({
      type: InvalidClient,
      error: 'invalid_client',
      status: 401,
      description: 'client authentication is required (client_id missing)',
      basicChallenge: false,
    });
  });
});

describe('extractClientCredentials: one method per request (RFC 6749 §2.3)', () => {
  it.each([
    ['Basic and client_secret', basic('app', 's3cret'), { client_secret: 's3cret' }],
    ['Basic and client_secret with the same client_id', basic('app', 's3cret'), { client_id: 'app', client_secret: 's3cret' }],
    ['Basic and client_assertion', basic('app', 's3cret'), { client_assertion: 'a.b.c', client_assertion_type: JWT_BEARER }],
    ['client_secret and client_assertion', undefined, { client_id: 'app', client_secret: 's3cret', client_assertion: 'a.b.c' }],
  ])('refuses %s with invalid_request', (_name, authorization, body) => {
    expect(failure(authorization, body)).toEqual({
      type: InvalidRequest,
      error: 'invalid_request',
      status: 400,
      description: 'more than one client authentication method was used',
      basicChallenge: undefined,
    });
  });
});

describe('claimedClientId: whom a request names, unverified, never refused', () => {
  it('reads the user name of HTTP Basic by the same rules (form-urldecoded, first colon), never the secret', () => {
    expect(claimedClientId(basic('my:client', 'p@ss word'), undefined)).toBe('my:client');
    expect(claimedClientId(rawBasic('a+b:c%3Ad'), undefined)).toBe('a b');
    expect(claimedClientId(`basic   ${basic('app', 's3cret').slice(6)}`, undefined)).toBe('app');
  });

  it('prefers Basic, which is what the authenticator checks, to a client_id parameter', () => {
    expect(claimedClientId(basic('app', 's3cret'), 'other')).toBe('app');
  });

  it('falls back to the client_id parameter when Basic is absent, of another scheme or malformed', () => {
    expect(claimedClientId(undefined, 'spa')).toBe('spa');
    expect(claimedClientId('Bearer abc', 'spa')).toBe('spa');
    expect(claimedClientId('Basic', 'spa')).toBe('spa');
    expect(claimedClientId(rawBasic('app:'), 'spa')).toBe('spa'); // no secret: malformed for extractClientCredentials too
    expect(claimedClientId(rawBasic('%zz:s3cret'), 'spa')).toBe('spa'); // not form-encoded
    expect(claimedClientId('Basic not base64!', 'spa')).toBe('spa');
  });

  it('names nobody when neither names a client, whatever the parameter\'s type', () => {
    expect(claimedClientId(undefined, undefined)).toBeUndefined();
    expect(claimedClientId(undefined, '')).toBeUndefined();
    expect(claimedClientId(undefined, ['a', 'b'])).toBeUndefined();
    expect(claimedClientId(rawBasic(':s3cret'), undefined)).toBeUndefined();
  });
});
