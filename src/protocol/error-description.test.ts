import { describe, expect, it } from 'vitest';
import { MAX_ERROR_DESCRIPTION_LENGTH, MAX_QUOTED_INPUT_LENGTH, MAX_QUOTED_URI_LENGTH, quoteInput, toErrorDescription } from './error-description.js';
import { InvalidGrant, InvalidRequest, UnsupportedGrantType } from './errors.js';

/** RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ). */
const RFC_6749_DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

describe('error_description (RFC 6749 §5.2)', () => {
  it('keeps a description made of allowed characters as it is', () => {
    const text = "the request is malformed: <a> [b] {c} 'd' ~ ! #$%&()*+,-./:;=?@^_`|";
    expect(toErrorDescription(text)).toBe(text);
  });

  it.each([
    ['a double quote', 'say "hi"', 'say ?hi?'],
    ['a backslash', 'a\\b', 'a?b'],
    ['non-ASCII letters', 'é', '?'],
    ['a character outside the BMP as one', 'x😀y', 'x?y'],
    ['a lone surrogate', 'x\uD800y', 'x?y'],
    ['control characters and DEL', 'a\r\nb\tc\u0000d\u007F', 'a??b?c?d?'],
  ])('replaces %s with ?', (_name, text, expected) => {
    expect(toErrorDescription(text)).toBe(expected);
    expect(toErrorDescription(text)).toMatch(RFC_6749_DESCRIPTION);
  });

  it(`cuts a description at ${MAX_ERROR_DESCRIPTION_LENGTH} characters`, () => {
    const description = toErrorDescription('x'.repeat(MAX_ERROR_DESCRIPTION_LENGTH + 100));
    expect(description).toBe('x'.repeat(MAX_ERROR_DESCRIPTION_LENGTH - 3) + '...');
  });

  it('is what every protocol error carries, whatever the message', () => {
    const error = new InvalidRequest('bad "value" \\ é\n');
    expect(error.description).toBe('bad ?value? ? ??');
    expect(error.message).toBe('bad ?value? ? ??');
    expect(new InvalidGrant('ok').description).toBe('ok');
  });
});

describe('quoting input in an error_description', () => {
  it('keeps an ordinary value', () => {
    expect(quoteInput('client_assertion_type')).toBe('client_assertion_type');
    expect(quoteInput('urn:ietf:params:oauth:grant-type:jwt-bearer', MAX_QUOTED_URI_LENGTH)).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(quoteInput('https://api.example.com/v1?x=1&y=[2]')).toBe('https://api.example.com/v1?x=1?y=[2]');
  });

  it.each([
    ['é"\\', '???'],
    ['"é<script>', '???script?'],
    ["a'b`c{d}e|f^g", 'a?b?c?d?e?f?g'],
    ['two words', 'two?words'],
    ['😀', '?'],
  ])('replaces markup, quotes, spaces and non-ASCII in %j', (value, expected) => {
    expect(quoteInput(value)).toBe(expected);
  });

  it(`cuts a value after ${MAX_QUOTED_INPUT_LENGTH} characters and says so`, () => {
    expect(quoteInput('a'.repeat(MAX_QUOTED_INPUT_LENGTH))).toBe('a'.repeat(MAX_QUOTED_INPUT_LENGTH));
    expect(quoteInput('a'.repeat(MAX_QUOTED_INPUT_LENGTH + 1))).toBe('a'.repeat(MAX_QUOTED_INPUT_LENGTH) + '...');
  });

  it('makes a quoted message safe end to end', () => {
    const error = new UnsupportedGrantType(`grant_type ${quoteInput('é"\\')} is not supported`);
    expect(error.description).toBe('grant_type ??? is not supported');
  });
});
