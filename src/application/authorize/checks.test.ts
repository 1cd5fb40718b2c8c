import { describe, expect, it } from 'vitest';
import { client } from '../../../test/unit/fixtures.js';
import type { Client } from '../../domain/client.js';
import { AUTHORIZATION_CHECKS, runChecks, type AuthorizationDraft } from './checks.js';

const VALID = {
  response_type: 'code',
  scope: 'openid profile',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
};

function draft(params: Record<string, string | undefined>, over: { client?: Client; endpoint?: 'auth' | 'par'; parRequired?: boolean } = {}): AuthorizationDraft {
  return { client: over.client ?? client(), params: { ...VALID, ...params }, endpoint: over.endpoint ?? 'auth', parRequired: over.parRequired ?? false };
}

function errorOf(d: AuthorizationDraft) {
  const error = runChecks(d);
  return error && { error: error.error, description: error.description };
}

describe('the authorization check table', () => {
  it('runs the checks in a documented order', () => {
    expect(AUTHORIZATION_CHECKS.map(([name]) => name)).toEqual([
      'checkRequestObject',
      'checkPushedRequestRequired',
      'checkResponseType',
      'checkResponseMode',
      'checkGrantType',
      'checkLengths',
      'checkScope',
      'checkPkce',
      'checkPrompt',
      'checkMaxAge',
      'checkIdTokenHint',
      'checkDpopJkt',
    ]);
  });

  it('fills the draft from a valid request', () => {
    const d = draft({ prompt: 'login consent login', max_age: '300', dpop_jkt: 'a'.repeat(43) });
    expect(runChecks(d)).toBeUndefined();
    expect(d).toMatchObject({ scopes: ['openid', 'profile'], codeChallenge: VALID.code_challenge, prompt: ['login', 'consent'], maxAge: 300, dpopJkt: 'a'.repeat(43) });
  });

  it.each([
    ['a request object', { request: 'x' }, 'request_not_supported', 'the request parameter is not supported'],
    ['no response_type', { response_type: undefined }, 'invalid_request', 'response_type is required'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type', 'response_type must be code'],
    ['response_mode=form_post', { response_mode: 'form_post' }, 'invalid_request', 'response_mode must be query'],
    ['a 513-character nonce', { nonce: 'n'.repeat(513) }, 'invalid_request', 'nonce is longer than 512 characters'],
    ['no scope', { scope: undefined }, 'invalid_request', 'scope is required'],
    ['a malformed scope', { scope: 'openid "x"' }, 'invalid_scope', 'scope is malformed'],
    ['a scope outside the client', { scope: 'openid admin' }, 'invalid_scope', 'scope not allowed for this client: admin'],
    ['PKCE plain', { code_challenge_method: 'plain' }, 'invalid_request', 'code_challenge_method must be S256'],
    ['prompt none with login', { prompt: 'none login' }, 'invalid_request', 'prompt none must not be combined with other values'],
    ['an unknown prompt', { prompt: 'create' }, 'invalid_request', 'prompt value create is not supported'],
    ['max_age=-1', { max_age: '-1' }, 'invalid_request', 'max_age must be a non-negative integer'],
    ['a malformed dpop_jkt', { dpop_jkt: 'short' }, 'invalid_request', 'dpop_jkt must be a base64url SHA-256 JWK thumbprint'],
    ['an id_token_hint that is no JWS', { id_token_hint: 'a.b' }, 'invalid_request', 'id_token_hint is not an ID token issued by this server'],
    ['an id_token_hint in JSON serialization', { id_token_hint: '{"payload":"x"}' }, 'invalid_request', 'id_token_hint is not an ID token issued by this server'],
  ])('refuses %s', (_name, params, error, description) => {
    expect(errorOf(draft(params))).toEqual({ error, description });
  });

  it('refuses a client not registered for the code grant', () => {
    expect(errorOf(draft({}, { client: client({ grantTypes: ['client_credentials'] }) }))).toEqual({
      error: 'unauthorized_client',
      description: 'the client is not allowed to use the authorization_code grant',
    });
  });

  it('requires PAR at /auth for fapi2 clients, or for everyone when configured (RFC 9126 §5)', () => {
    const pushOnly = { error: 'invalid_request', description: 'this client must use a pushed authorization request (PAR)' };
    expect(errorOf(draft({}, { client: client({ profile: 'fapi2' }) }))).toEqual(pushOnly);
    expect(errorOf(draft({}, { parRequired: true }))).toEqual(pushOnly);
    expect(errorOf(draft({}, { client: client({ profile: 'fapi2' }), endpoint: 'par' }))).toBeUndefined();
  });

  it('refuses a request_uri sent to /par (RFC 9126 §2.1)', () => {
    expect(errorOf(draft({ request_uri: 'urn:ietf:params:oauth:request_uri:x' }, { endpoint: 'par' }))).toEqual({
      error: 'invalid_request',
      description: 'request_uri must not be sent to the pushed authorization request endpoint',
    });
  });
});
