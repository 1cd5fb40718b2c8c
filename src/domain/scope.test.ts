import { describe, expect, it } from 'vitest';
import { claimsForScopes, parseScope, scopesOutside } from './scope.js';
import { isAuthenticationTooOld } from './session.js';

describe('scopes (RFC 6749 §3.3, OIDC Core §5.4)', () => {
  it('parses space-separated tokens, dropping duplicates and extra spaces', () => {
    expect(parseScope('openid  profile openid')).toEqual(['openid', 'profile']);
    expect(parseScope('invoices:read accounts')).toEqual(['invoices:read', 'accounts']);
  });

  it.each([['openid "x"'], ['openid\\x'], ['a\tb']])('refuses malformed scope %j', (scope) => {
    expect(parseScope(scope)).toBeUndefined();
  });

  it('lists what the client may not ask for', () => {
    expect(scopesOutside(['openid', 'admin', 'email'], ['openid', 'email'])).toEqual(['admin']);
  });

  it('releases only the claims of granted scopes', () => {
    const claims = { name: 'Alice', email: 'a@example.com', email_verified: true, phone_number: '+33', secret: 'x' };
    expect(claimsForScopes(['openid', 'email'], claims)).toEqual({ email: 'a@example.com', email_verified: true });
    expect(claimsForScopes(['profile'], claims)).toEqual({ name: 'Alice' });
    expect(claimsForScopes(['accounts'], claims)).toEqual({});
  });
});

describe('max_age (OIDC Core §3.1.2.1)', () => {
  it('is exceeded when auth_time + max_age < now', () => {
    expect(isAuthenticationTooOld(1000, 60, 1060)).toBe(false);
    expect(isAuthenticationTooOld(1000, 60, 1061)).toBe(true);
    expect(isAuthenticationTooOld(1000, undefined, 99999)).toBe(false);
  });
});
