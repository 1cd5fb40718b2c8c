import { describe, expect, it } from 'vitest';
import { InvalidRequest } from './errors.js';
import { MAX_PARAMETER_LENGTH, single, singleAll } from './parameters.js';

function description(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequest);
    return (error as InvalidRequest).description;
  }
  throw new Error('the parameters were accepted');
}

describe('single (RFC 6749 §3.1 and §3.2)', () => {
  it('returns the value of a parameter sent once', () => {
    expect(single({ scope: 'openid' }, 'scope')).toBe('openid');
  });

  it('treats an absent parameter and one sent without a value as omitted', () => {
    expect(single({}, 'scope')).toBeUndefined();
    expect(single({ scope: undefined }, 'scope')).toBeUndefined();
    expect(single({ scope: '' }, 'scope')).toBeUndefined();
  });

  it('keeps whitespace-only values as they are', () => {
    expect(single({ state: ' ' }, 'state')).toBe(' ');
  });

  it('refuses a repeated parameter, even if both values are equal', () => {
    expect(description(() => single({ scope: ['openid', 'openid'] }, 'scope'))).toBe('scope must not be repeated');
    expect(description(() => single({ scope: ['', ''] }, 'scope'))).toBe('scope must not be repeated');
  });

  it(`accepts up to ${MAX_PARAMETER_LENGTH} characters by default and refuses one more`, () => {
    expect(MAX_PARAMETER_LENGTH).toBe(4096);
    const longest = 'x'.repeat(4096);
    expect(single({ state: longest }, 'state')).toBe(longest);
    expect(description(() => single({ state: `${longest}x` }, 'state'))).toBe('state is longer than 4096 characters');
  });

  it('applies a caller-given limit', () => {
    expect(single({ client_id: 'a'.repeat(128) }, 'client_id', 128)).toBe('a'.repeat(128));
    expect(description(() => single({ client_id: 'a'.repeat(129) }, 'client_id', 128))).toBe('client_id is longer than 128 characters');
  });
});

describe('singleAll', () => {
  it('checks every parameter and returns a plain string map', () => {
    expect(singleAll({ grant_type: 'authorization_code', code: 'abc', state: '' })).toEqual({
      grant_type: 'authorization_code',
      code: 'abc',
      state: undefined,
    });
  });

  it('returns an empty map for no parameters', () => {
    expect(singleAll({})).toEqual({});
  });

  it('refuses the first repeated parameter', () => {
    expect(description(() => singleAll({ grant_type: 'refresh_token', refresh_token: ['a', 'b'] }))).toBe('refresh_token must not be repeated');
  });

  it('refuses any parameter over the default limit', () => {
    expect(description(() => singleAll({ code: 'c'.repeat(4097) }))).toBe('code is longer than 4096 characters');
  });
});
