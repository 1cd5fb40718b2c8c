import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, randomToken, sha256 } from './random.js';

describe('randomToken', () => {
  it('gives 256 bits as 43 base64url characters by default', () => {
    const token = randomToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  });

  it.each([
    [16, 22],
    [24, 32],
    [64, 86],
  ])('gives %i bytes as %i characters', (bytes, length) => {
    const token = randomToken(bytes);
    expect(token).toMatch(new RegExp(`^[A-Za-z0-9_-]{${length}}$`));
    expect(Buffer.from(token, 'base64url')).toHaveLength(bytes);
  });

  it('does not repeat itself', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => randomToken()));
    expect(tokens.size).toBe(100);
  });
});

describe('sha256: how handles are stored', () => {
  it('matches the FIPS 180-2 "abc" vector, in base64url', () => {
    const expected = Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString('base64url');
    expect(sha256('abc')).toBe(expected);
    expect(expected).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('matches the empty-string vector', () => {
    expect(sha256('')).toBe(Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex').toString('base64url'));
  });

  it('hashes the UTF-8 bytes of the string', () => {
    // "é" is C3 A9 in UTF-8 (E9 in Latin-1).
    expect(sha256('é')).toBe(createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest('base64url'));
    expect(sha256('é')).not.toBe(createHash('sha256').update(Buffer.from([0xe9])).digest('base64url'));
  });
});

describe('constantTimeEqual', () => {
  it.each([
    ['', ''],
    ['abc', 'abc'],
    ['clé', 'clé'],
  ])('%j equals %j', (a, b) => {
    expect(constantTimeEqual(a, b)).toBe(true);
  });

  it.each([
    ['abc', 'abd'],
    ['abc', 'ab'],
    ['abc', ''],
    ['abc', 'ABC'],
    ['é', 'e\u0301'],
  ])('%j differs from %j', (a, b) => {
    expect(constantTimeEqual(a, b)).toBe(false);
    expect(constantTimeEqual(b, a)).toBe(false);
  });
});
