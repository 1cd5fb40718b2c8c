/** Scenario e: whole FAPI 2.0 code flows, one after the other, driven by openid-client. */
import * as oidc from 'openid-client';
import type { CryptoKey } from 'jose';

interface FlowTarget {
  readonly issuer: string;
}

/** Runs flows for `seconds`; returns flows per second and per-flow latency percentiles (ms). */
export async function runFlows(target: FlowTarget, options: { seconds: number; clientKey: CryptoKey; callback: string }) {
  const config = await oidc.discovery(new URL(target.issuer), 'bank', undefined, oidc.PrivateKeyJwt({ key: options.clientKey, kid: 'svc-key' }), {
    execute: [oidc.allowInsecureRequests],
  });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + options.seconds * 1000;
  while (performance.now() < end) {
    const start = performance.now();
    try {
      await oneFlow(config, options.callback);
      latencies.push(performance.now() - start);
    } catch (error) {
      errors++;
      if (errors === 1) console.error(`flow failed on ${target.issuer}:`, (error as Error).message);
      if (errors > 20) break;
    }
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 10) / 10;
  return { perSecond: latencies.length / options.seconds, p50: at(0.5), p99: at(0.99), errors };
}

async function oneFlow(config: oidc.Configuration, callback: string): Promise<void> {
  const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const url = await oidc.buildAuthorizationUrlWithPAR(
    config,
    { redirect_uri: callback, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', nonce },
    { DPoP: dpop },
  );
  const redirected = await loginThrough(url.href, callback);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(redirected), { pkceCodeVerifier: verifier, expectedState: oidc.skipStateCheck, expectedNonce: nonce }, undefined, {
    DPoP: dpop,
  });
  if (tokens.token_type !== 'dpop') throw new Error(`expected a DPoP-bound token, got ${tokens.token_type}`);
}

/** A browser's part: follow redirects with cookies and fill the login form (Trusty's username, the reference's login). */
async function loginThrough(start: string, callback: string): Promise<string> {
  const cookies = new Map<string, string>();
  let url = start;
  let init: RequestInit = { method: 'GET' };
  for (let hop = 0; hop < 15; hop++) {
    if (url.startsWith(callback)) return url;
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = response.headers.get('location');
    if (location !== null) {
      url = new URL(location, url).href;
      init = { method: 'GET' };
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/i.exec(html)?.[1];
    if (action === undefined) throw new Error(`no form at ${url} (${response.status})`);
    const fields = new URLSearchParams();
    for (const [, name, value] of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi)) fields.set(name!, value!);
    fields.set(/name="login"/.test(html) ? 'login' : 'username', 'alice');
    fields.set('password', 'alice-password');
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    init = { method: 'POST', body: fields.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  throw new Error('too many redirects');
}
