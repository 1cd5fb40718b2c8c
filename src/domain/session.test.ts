import { describe, expect, it } from 'vitest';
import { isAuthenticationTooOld, isSessionActive, type Session } from './session.js';

const NOW = 1_800_000_000;

function session(expiresAt: number): Session {
  return { idDigest: 'digest', userId: 'alice', authTime: NOW - 3600, expiresAt, sid: 'sid' };
}

describe('isSessionActive', () => {
  it('is active until its expiry', () => {
    expect(isSessionActive(session(NOW + 1), NOW)).toBe(true);
  });

  it('has ended at its expiry second and after', () => {
    expect(isSessionActive(session(NOW), NOW)).toBe(false);
    expect(isSessionActive(session(NOW - 1), NOW)).toBe(false);
  });
});

describe('isAuthenticationTooOld (OIDC Core §3.1.2.1 max_age)', () => {
  it('never is without max_age', () => {
    expect(isAuthenticationTooOld(0, undefined, NOW)).toBe(false);
  });

  it('is too old only once auth_time + max_age < now', () => {
    expect(isAuthenticationTooOld(NOW - 300, 300, NOW)).toBe(false);
    expect(isAuthenticationTooOld(NOW - 301, 300, NOW)).toBe(true);
  });

  it('accepts an authentication of this very second under max_age=0, and none older', () => {
    expect(isAuthenticationTooOld(NOW, 0, NOW)).toBe(false);
    expect(isAuthenticationTooOld(NOW - 1, 0, NOW)).toBe(true);
  });
});
