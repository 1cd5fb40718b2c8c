import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyView from '@fastify/view';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import Handlebars from 'handlebars';
import i18next, { type TFunction } from 'i18next';
import { projectRoot } from '../../infrastructure/project-root.js';
import { SUPPORTED_LANGUAGES, type Language } from './language.js';

declare module 'fastify' {
  interface FastifyReply {
    /** Renders templates/<name>.hbs in the layout, translated into `lang`. */
    page(name: string, lang: Language, data: Record<string, unknown>, status?: number): FastifyReply;
  }
}

/** Handlebars pages with i18next translations (locales/<lang>.json) through a `t` helper. */
export const viewsPlugin = fp(async (app: FastifyInstance) => {
  const locales = new Map(
    SUPPORTED_LANGUAGES.map((lang) => [lang, JSON.parse(readFileSync(join(projectRoot, 'locales', `${lang}.json`), 'utf8')) as Record<string, unknown>]),
  );
  const i18n = i18next.createInstance();
  await i18n.init({
    resources: Object.fromEntries([...locales].map(([lang, translation]) => [lang, { translation }])),
    fallbackLng: SUPPORTED_LANGUAGES[0],
    supportedLngs: [...SUPPORTED_LANGUAGES],
    interpolation: { escapeValue: false }, // Handlebars escapes
    initAsync: false,
  });
  const translators = new Map<string, TFunction>(SUPPORTED_LANGUAGES.map((lang) => [lang, i18n.getFixedT(lang)]));
  // Strings per language (the fallback language's where one is missing), looked up directly
  // when they hold nothing but plain {{name}} placeholders: an i18next call copies all its
  // options into a fresh object, and a page makes a dozen of them (two thirds of what a code
  // flow promoted to V8's old space, measured with the bench). Anything richer goes to i18next.
  const fallback = locales.get(SUPPORTED_LANGUAGES[0])!;
  const plain = new Map([...locales].map(([lang, tree]) => [lang, plainStrings(fallback, tree)]));
  const languageOf = (options: Handlebars.HelperOptions): Language => {
    const lang = (options.data?.root as { lang?: string } | undefined)?.lang;
    return SUPPORTED_LANGUAGES.find((supported) => supported === lang) ?? SUPPORTED_LANGUAGES[0];
  };

  const handlebars = Handlebars.create();
  handlebars.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
    const lang = languageOf(options);
    const hash = options.hash as Record<string, unknown>;
    const text = plain.get(lang)!.get(key);
    const filled = text === undefined ? undefined : interpolate(text, hash);
    return filled ?? translators.get(lang)!(key, hash);
  });

  // Consent page: a scope's description, or its own name for custom scopes (accounts, invoices:read).
  handlebars.registerHelper('scopeLabel', function (this: unknown, scope: string, options: Handlebars.HelperOptions) {
    const lang = languageOf(options);
    return plain.get(lang)!.get(`scopes.${scope}`) ?? translators.get(lang)!(`scopes.${scope}`, { defaultValue: scope });
  });

  await app.register(fastifyView, {
    engine: { handlebars },
    root: join(projectRoot, 'templates'),
    layout: 'layout.hbs',
    production: true, // compile each template once
  });

  app.decorateReply('page', function (this: FastifyReply, name: string, lang: Language, data: Record<string, unknown>, status = 200) {
    this.code(status)
      .header('cache-control', 'no-store')
      .header('content-type', 'text/html; charset=utf-8');
    // Content-Security-Policy and the other page headers: @fastify/helmet (src/http/plugins/security-headers.ts).
    return this.view(`${name}.hbs`, { ...data, lang });
  });
});

/**
 * A language's strings by dotted key, the fallback language's where it has none, keeping only
 * the plain ones: a string of its own that needs i18next is left to i18next, never replaced by
 * the fallback language's plain one.
 */
export function plainStrings(fallback: Record<string, unknown>, own: Record<string, unknown>): Map<string, string> {
  const strings = new Map([...flatten(fallback), ...flatten(own)]);
  for (const [key, text] of strings) if (!isPlain(text)) strings.delete(key);
  return strings;
}

/** i18next's nested keys as dotted paths: {"login": {"title": "…"}} → login.title. */
function flatten(tree: Record<string, unknown>, prefix = ''): Array<[string, string]> {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [[prefix + key, value] as [string, string]] : typeof value === 'object' && value !== null ? flatten(value as Record<string, unknown>, `${prefix}${key}.`) : [],
  );
}

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

/** Only {{name}} placeholders: no nesting ($t), no formats, no unescaped ({{- }}) values. */
function isPlain(text: string): boolean {
  return !text.includes('$t(') && text.replace(PLACEHOLDER, '').indexOf('{{') === -1;
}

/** `text` with its placeholders filled from `values`; undefined when one is missing (i18next decides then). */
export function interpolate(text: string, values: Record<string, unknown>): string | undefined {
  if (!text.includes('{{')) return text;
  let missing = false;
  const filled = text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    if (value === undefined || value === null) missing = true;
    return String(value);
  });
  return missing ? undefined : filled;
}
