import { describe, expect, it } from 'vitest';
import { authorizationRequest, client } from '../../../test/unit/fixtures.js';
import type { Session } from '../../domain/session.js';
import { ConsentRequired, LoginRequired } from '../../protocol/errors.js';
import { nextStep, type NextStepInput } from './next-step.js';

const NOW = 1_800_000_000;
const session: Session = { idDigest: 'd', userId: 'alice', authTime: NOW - 100, expiresAt: NOW + 1000, sid: 's' };

function input(over: Partial<NextStepInput> = {}): NextStepInput {
  return { request: authorizationRequest(), client: client(), session, interactionAuth: undefined, grantedScopes: [], now: NOW, ...over };
}

describe('nextStep (OIDC Core §3.1.2.1 prompt and max_age, §3.1.2.4 consent)', () => {
  it('asks for login without a session', () => {
    expect(nextStep(input({ session: undefined }))).toEqual({ step: 'login' });
  });

  it('issues from a live session (SSO) with its auth_time', () => {
    expect(nextStep(input())).toEqual({ step: 'issue', userId: 'alice', authTime: NOW - 100 });
  });

  it.each([['login'], ['select_account']] as const)('asks for login again with prompt=%s', (prompt) => {
    expect(nextStep(input({ request: authorizationRequest({ prompt: [prompt] }) }))).toEqual({ step: 'login' });
  });

  it('honours max_age: auth_time + max_age < now means log in again', () => {
    expect(nextStep(input({ request: authorizationRequest({ maxAge: 100 }) })).step).toBe('issue');
    expect(nextStep(input({ request: authorizationRequest({ maxAge: 99 }) })).step).toBe('login');
    expect(nextStep(input({ request: authorizationRequest({ maxAge: 0 }) })).step).toBe('login');
  });

  it('treats max_age=0 as prompt=login: a live session is not enough, a password typed now is', () => {
    const fresh = { userId: 'alice', authTime: NOW };
    const request = authorizationRequest({ maxAge: 0 });
    expect(nextStep(input({ request, session: { ...session, authTime: NOW } })).step).toBe('login');
    expect(nextStep(input({ request, interactionAuth: fresh, now: NOW + 1 }))).toEqual({ step: 'issue', userId: 'alice', authTime: NOW });
  });

  it('prefers the login of this interaction over the session', () => {
    const interactionAuth = { userId: 'bob', authTime: NOW };
    expect(nextStep(input({ interactionAuth, request: authorizationRequest({ prompt: ['login'] }) }))).toEqual({ step: 'issue', userId: 'bob', authTime: NOW });
  });

  it('asks for consent for what was not granted yet, when the client requires it', () => {
    const c = client({ requireConsent: true });
    const request = authorizationRequest({ scopes: ['openid', 'email'] });
    expect(nextStep(input({ client: c, request, grantedScopes: ['openid'] })).step).toBe('consent');
    expect(nextStep(input({ client: c, request, grantedScopes: ['openid', 'email', 'profile'] })).step).toBe('issue');
    expect(nextStep(input({ request: authorizationRequest({ prompt: ['consent'] }) })).step).toBe('consent');
  });

  describe('id_token_hint (OIDC Core §3.1.2.1)', () => {
    it('answers from the session of the user it names', () => {
      expect(nextStep(input({ request: authorizationRequest({ idTokenHintSubject: 'alice' }) }))).toEqual({ step: 'issue', userId: 'alice', authTime: NOW - 100 });
      expect(nextStep(input({ request: authorizationRequest({ prompt: ['none'], idTokenHintSubject: 'alice' }) })).step).toBe('issue');
    });

    it('never answers from the session of another user: login_required under prompt=none, else the login page', () => {
      const none = authorizationRequest({ prompt: ['none'], idTokenHintSubject: 'bob' });
      expect(() => nextStep(input({ request: none }))).toThrow(new LoginRequired('the signed-in user is not the subject of id_token_hint'));
      expect(nextStep(input({ request: authorizationRequest({ idTokenHintSubject: 'bob' }) }))).toEqual({ step: 'login' });
      expect(() => nextStep(input({ request: none, session: undefined }))).toThrow(new LoginRequired('the user is not logged in'));
    });

    it('takes the password typed in this interaction, whoever it names (the user chose)', () => {
      const request = authorizationRequest({ idTokenHintSubject: 'bob' });
      expect(nextStep(input({ request, interactionAuth: { userId: 'bob', authTime: NOW } }))).toEqual({ step: 'issue', userId: 'bob', authTime: NOW });
      expect(nextStep(input({ request, interactionAuth: { userId: 'alice', authTime: NOW } })).step).toBe('issue');
    });
  });

  it('re-checks max_age against the interaction’s auth_time (consent approved late)', () => {
    const request = authorizationRequest({ maxAge: 60, scopes: ['openid', 'email'] });
    const interactionAuth = { userId: 'alice', authTime: NOW - 60 };
    const c = client({ requireConsent: true });
    expect(nextStep(input({ request, client: c, interactionAuth })).step).toBe('consent');
    expect(nextStep(input({ request, client: c, interactionAuth, now: NOW + 1 }))).toEqual({ step: 'login' });
  });

  it('throws login_required and consent_required under prompt=none', () => {
    const none = authorizationRequest({ prompt: ['none'] });
    expect(() => nextStep(input({ request: none, session: undefined }))).toThrow(LoginRequired);
    expect(() => nextStep(input({ request: none, client: client({ requireConsent: true }) }))).toThrow(ConsentRequired);
    expect(nextStep(input({ request: none })).step).toBe('issue');
  });
});
