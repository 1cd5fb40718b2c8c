/**
 * A minimal browser for the hosted pages: keeps cookies per host, follows redirects by hand
 * (so the test sees each hop), and submits forms with their hidden fields, as a person would.
 */
export interface Page {
  readonly url: string;
  readonly status: number;
  readonly html: string;
  readonly headers: Headers;
}

export interface Form {
  readonly action: string;
  readonly method: string;
  readonly fields: Record<string, string>;
  readonly buttons: Array<{ name: string; value: string }>;
}

export class Browser {
  private readonly cookies = new Map<string, string>();
  /** Redirect chains stop at URLs starting with this (the relying party's callback). */
  constructor(private readonly stopAt: string[] = ['http://127.0.0.1:9/'], readonly acceptLanguage = 'en') {}

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  dropCookie(name: string): void {
    this.cookies.delete(name);
  }

  /** Plants a cookie, e.g. one another browser was given (to replay it). */
  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  /** Follows redirects; stops at a callback URL and returns it as the page's url with status 0. */
  async get(url: string): Promise<Page> {
    return this.request(url, { method: 'GET' });
  }

  async submit(page: Page, form: Form, values: Record<string, string>): Promise<Page> {
    const body = new URLSearchParams({ ...form.fields, ...values });
    return this.request(new URL(form.action, page.url).toString(), {
      method: form.method.toUpperCase(),
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /** The redirect statuses seen on the last request chain (FAPI: 303 after POST). */
  readonly redirectStatuses: number[] = [];

  private async request(url: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<Page> {
    this.redirectStatuses.length = 0;
    let current = url;
    let options = init;
    for (let hop = 0; hop < 10; hop++) {
      if (this.stopAt.some((prefix) => current.startsWith(prefix))) {
        return { url: current, status: 0, html: '', headers: new Headers() };
      }
      const response = await fetch(current, {
        method: options.method,
        body: options.body,
        redirect: 'manual',
        headers: { ...options.headers, cookie: this.cookieHeader(), 'accept-language': this.acceptLanguage },
      });
      this.store(response.headers);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        this.redirectStatuses.push(response.status);
        current = new URL(location, current).toString();
        options = { method: 'GET' };
        continue;
      }
      return { url: current, status: response.status, html: await response.text(), headers: response.headers };
    }
    throw new Error('too many redirects');
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** Reads the first form of a page: its action, hidden inputs and submit buttons. */
export function parseForm(html: string): Form {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form in page:\n${html.slice(0, 500)}`);
  const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)?.[1];
  const fields: Record<string, string> = {};
  for (const [input] of form[2]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = attr(input, 'name');
    if (name && attr(input, 'type') === 'hidden') fields[name] = decode(attr(input, 'value') ?? '');
  }
  const buttons = [...form[2]!.matchAll(/<button\b[^>]*>/gi)].map(([b]) => ({ name: attr(b, 'name') ?? '', value: attr(b, 'value') ?? '' }));
  return { action: decode(attr(form[1]!, 'action') ?? ''), method: attr(form[1]!, 'method') ?? 'get', fields, buttons };
}

function decode(value: string): string {
  return value.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&#x3D;/g, '=').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** Logs in on the hosted page and answers consent if asked; returns the callback URL. */
export async function loginThrough(
  browser: Browser,
  authorizationUrl: string,
  credentials: { username: string; password: string },
  consent: 'approve' | 'deny' = 'approve',
): Promise<string> {
  let page = await browser.get(authorizationUrl);
  if (page.status === 0) return page.url;
  if (/name="password"/.test(page.html)) {
    page = await browser.submit(page, parseForm(page.html), credentials);
    if (page.status === 0) return page.url;
  }
  if (/name="decision"/.test(page.html)) {
    page = await browser.submit(page, parseForm(page.html), { decision: consent });
    if (page.status === 0) return page.url;
  }
  throw new Error(`the flow did not reach the callback (status ${page.status}):\n${page.html.slice(0, 800)}`);
}
