import { describe, expect, it } from 'vitest';
import { negotiateLanguage } from './language.js';

describe('negotiateLanguage: ui_locales, then Accept-Language, then English', () => {
  it.each([
    [undefined, undefined, 'en'],
    ['fr', 'en', 'fr'],
    ['de fr-CA', undefined, 'fr'],
    ['de', 'fr', 'fr'],
    [undefined, 'fr-FR,fr;q=0.9,en;q=0.8', 'fr'],
    [undefined, 'de, en;q=0.5, fr;q=0.7', 'fr'],
    [undefined, 'fr;q=0, en', 'en'],
    [undefined, 'FR', 'fr'],
    [undefined, 'es, de', 'en'],
    [undefined, 'garbage;;;q=x', 'en'],
  ] as const)('ui_locales %s, Accept-Language %s → %s', (uiLocales, acceptLanguage, expected) => {
    expect(negotiateLanguage(uiLocales, acceptLanguage)).toBe(expected);
  });
});
