import { describe, expect, it } from 'vitest';
import { buildRedirect, isLoopbackHost, isRegisteredRedirectUri } from './redirect-uri.js';

const REGISTERED = ['https://app.example/cb', 'https://app.example/cb?tenant=a', 'http://127.0.0.1:8080/cb'];

describe('isRegisteredRedirectUri: exact string match (RFC 9700 §4.1.3)', () => {
  it.each(REGISTERED)('accepts the registered %s', (uri) => {
    expect(isRegisteredRedirectUri(uri, REGISTERED)).toBe(true);
  });

  it.each([
    ['a trailing slash', 'https://app.example/cb/'],
    ['another path', 'https://app.example/cb2'],
    ['a longer path (no prefix match)', 'https://app.example/cb/evil'],
    ['an added query', 'https://app.example/cb?x=1'],
    ['another query value', 'https://app.example/cb?tenant=b'],
    ['a fragment', 'https://app.example/cb#x'],
    ['the host in capitals (no normalisation)', 'https://APP.example/cb'],
    ['an explicit default port (no normalisation)', 'https://app.example:443/cb'],
    ['http instead of https', 'http://app.example/cb'],
    ['another loopback port', 'http://127.0.0.1:9090/cb'],
    ['a subdomain', 'https://evil.app.example/cb'],
    ['a percent-encoded path', 'https://app.example/%63b'],
  ])('refuses %s', (_name, uri) => {
    expect(isRegisteredRedirectUri(uri, REGISTERED)).toBe(false);
  });

  it('refuses everything when nothing is registered', () => {
    expect(isRegisteredRedirectUri('https://app.example/cb', [])).toBe(false);
  });
});

describe('isLoopbackHost (RFC 8252 §7.3, §8.3)', () => {
  it.each(['127.0.0.1', '[::1]', '::1', 'localhost'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it('recognises the hostname URL gives for an IPv6 loopback', () => {
    expect(isLoopbackHost(new URL('http://[::1]:8080/cb').hostname)).toBe(true);
  });

  it.each(['app.example', 'localhost.example', '0.0.0.0', '127.0.0.1.nip.io', '[::2]', ''])('%j is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('buildRedirect: the authorization response in the query (RFC 6749 §4.1.2)', () => {
  it('adds the parameters to the query', () => {
    const url = new URL(buildRedirect('https://app.example/cb', { code: 'abc', state: 'xyz', iss: 'https://id.example' }));
    expect(url.origin + url.pathname).toBe('https://app.example/cb');
    expect([...url.searchParams]).toEqual([
      ['code', 'abc'],
      ['state', 'xyz'],
      ['iss', 'https://id.example'],
    ]);
    expect(url.hash).toBe('');
  });

  it('leaves out undefined parameters', () => {
    expect([...new URL(buildRedirect('https://app.example/cb', { code: 'abc', state: undefined })).searchParams]).toEqual([['code', 'abc']]);
  });

  it('encodes values so they cannot inject parameters', () => {
    const url = new URL(buildRedirect('https://app.example/cb', { state: 'a b&code=evil#x' }));
    expect([...url.searchParams]).toEqual([['state', 'a b&code=evil#x']]);
    expect(url.hash).toBe('');
  });

  it('keeps the query the registered URI already has (RFC 6749 §3.1.2)', () => {
    const url = new URL(buildRedirect('https://app.example/cb?tenant=a', { code: 'abc' }));
    expect([...url.searchParams]).toEqual([
      ['tenant', 'a'],
      ['code', 'abc'],
    ]);
  });

  it('keeps a loopback port and path', () => {
    expect(buildRedirect('http://127.0.0.1:8080/cb', { code: 'abc' })).toBe('http://127.0.0.1:8080/cb?code=abc');
  });

  it('retains the registered query byte for byte, appending after it (RFC 6749 §3.1.2)', () => {
    expect(buildRedirect('https://app.example/cb?foo&a=b%20c', { code: 'c', state: 'a b&c' })).toBe('https://app.example/cb?foo&a=b%20c&code=c&state=a+b%26c');
    expect(buildRedirect('https://app.example/cb?', { code: 'c' })).toBe('https://app.example/cb?code=c');
    expect(buildRedirect('https://app.example/cb?x=1', {})).toBe('https://app.example/cb?x=1');
  });
});
