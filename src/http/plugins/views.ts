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
  const i18n = i18next.createInstance();
  await i18n.init({
    resources: Object.fromEntries(
      SUPPORTED_LANGUAGES.map((lang) => [lang, { translation: JSON.parse(readFileSync(join(projectRoot, 'locales', `${lang}.json`), 'utf8')) }]),
    ),
    fallbackLng: SUPPORTED_LANGUAGES[0],
    supportedLngs: [...SUPPORTED_LANGUAGES],
    interpolation: { escapeValue: false }, // Handlebars escapes
    initAsync: false,
  });
  const translators = new Map<string, TFunction>(SUPPORTED_LANGUAGES.map((lang) => [lang, i18n.getFixedT(lang)]));

  const handlebars = Handlebars.create();
  handlebars.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
    const lang = (options.data?.root as { lang?: string } | undefined)?.lang ?? SUPPORTED_LANGUAGES[0];
    const t = translators.get(lang) ?? translators.get(SUPPORTED_LANGUAGES[0])!;
    return t(key, options.hash as Record<string, unknown>);
  });

  // Consent page: a scope's description, or its own name for custom scopes (accounts, invoices:read).
  handlebars.registerHelper('scopeLabel', function (this: unknown, scope: string, options: Handlebars.HelperOptions) {
    const lang = (options.data?.root as { lang?: string } | undefined)?.lang ?? SUPPORTED_LANGUAGES[0];
    const t = translators.get(lang) ?? translators.get(SUPPORTED_LANGUAGES[0])!;
    return t(`scopes.${scope}`, { defaultValue: scope });
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
    // A hosted page is never framed (clickjacking) and loads nothing from elsewhere.
    this.header('content-security-policy', "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'");
    return this.view(`${name}.hbs`, { ...data, lang });
  });
});
