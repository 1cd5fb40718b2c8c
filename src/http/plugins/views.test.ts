import { describe, expect, it } from 'vitest';
import { interpolate, plainStrings } from './views.js';

describe('interpolate', () => {
  it('fills every {{name}} placeholder, spaces allowed, and leaves escaping to Handlebars', () => {
    expect(interpolate('to continue to {{client}}', { client: 'Bank <App>' })).toBe('to continue to Bank <App>');
    expect(interpolate('{{ client }} asks {{client}}', { client: 'A' })).toBe('A asks A');
  });

  it('returns a string without placeholders as it is', () => {
    expect(interpolate('Sign in', {})).toBe('Sign in');
  });

  it('answers undefined when a value is missing, so that i18next decides', () => {
    expect(interpolate('to continue to {{client}}', {})).toBeUndefined();
    expect(interpolate('to continue to {{client}}', { client: null })).toBeUndefined();
  });
});

describe('plainStrings', () => {
  it("takes the language's own string, the fallback's where it has none, and leaves non-plain strings to i18next", () => {
    const en = { login: { title: 'Sign in', hello: 'Hello {{name}}', nested: '$t(login.title) now' }, only: 'English only' };
    const fr = { login: { title: 'Connexion', hello: 'Bonjour {{- name}}' } };
    expect([...plainStrings(en, fr)]).toEqual([
      ['login.title', 'Connexion'],
      ['only', 'English only'],
    ]);
    expect(plainStrings(en, en).get('login.hello')).toBe('Hello {{name}}');
  });
});
