import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Headers every response carries (the token endpoint's included: a constant object, no per-request work). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * RFC 6797: a browser that reached an https issuer once keeps using https for it for a year.
 * Only for an https issuer: on an http loopback issuer (development) it would be ignored at
 * best, and would pin localhost's other services to https at worst. No includeSubDomains: an
 * issuer on an apex host (https://example.com) would impose https on every subdomain of the
 * organisation; the proxy in front can add it where that is meant. Sent on every answer, as
 * TLS ends at that proxy and the server cannot tell (browsers ignore it over http, §8.1).
 */
export const HSTS = 'max-age=31536000';

export function isHttpsIssuer(issuer: string): boolean {
  return issuer.startsWith('https:');
}

export const securityHeadersPlugin = fp(async (app: FastifyInstance, { issuer }: { issuer: string }) => {
  const headers = isHttpsIssuer(issuer) ? { ...SECURITY_HEADERS, 'strict-transport-security': HSTS } : SECURITY_HEADERS;
  // A callback hook, not an async one: this runs on every response, the token endpoint's included.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(headers);
    done(null, payload);
  });
});

/**
 * @fastify/helmet on the hosted pages: a strict Content-Security-Policy (the pages run no script
 * at all and load only their own stylesheet and images; never framed), with helmet's other
 * headers. No form-action: browsers apply it to the redirect that follows a form post, and the
 * login and consent forms end with a redirect to the client.
 */
export function pageHelmetOptions(issuer: string): FastifyHelmetOptions {
  return {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    strictTransportSecurity: isHttpsIssuer(issuer) ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    // A relying party may open the login in a popup (oidc-client-ts signinPopup, MSAL
    // loginPopup): same-origin would cut the popup from its opener and the login would fail.
    crossOriginOpenerPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  };
}
