/** Languages the hosted pages ship in; the first is the fallback. */
export const SUPPORTED_LANGUAGES = ['en', 'fr'] as const;
export type Language = (typeof SUPPORTED_LANGUAGES)[number];

/**
 * Picks the page language: OIDC Core §3.1.2.1 ui_locales (space-separated BCP 47 tags, in
 * order of preference) first, then the Accept-Language header (RFC 9110 §12.5.4, by q-value),
 * then English. A regional tag (fr-CA) matches its base language.
 */
export function negotiateLanguage(uiLocales: string | undefined, acceptLanguage: string | undefined): Language {
  for (const tag of (uiLocales ?? '').split(' ')) {
    const match = matchTag(tag);
    if (match) return match;
  }
  const ranked = (acceptLanguage ?? '')
    .slice(0, 512)
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q === undefined ? 1 : Number(q.slice(2));
      return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const { tag } of ranked) {
    const match = matchTag(tag);
    if (match) return match;
  }
  return SUPPORTED_LANGUAGES[0];
}

function matchTag(tag: string): Language | undefined {
  const base = tag.toLowerCase().split('-')[0] ?? '';
  return (SUPPORTED_LANGUAGES as readonly string[]).includes(base) ? (base as Language) : undefined;
}
