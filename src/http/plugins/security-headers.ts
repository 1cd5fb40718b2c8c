import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Headers every response carries. Pages add their own Content-Security-Policy. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export const securityHeadersPlugin = fp(async (app: FastifyInstance) => {
  // A callback hook, not an async one: this runs on every response, the token endpoint's included.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });
});
