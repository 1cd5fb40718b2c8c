import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Headers every response carries. Pages add their own Content-Security-Policy. */
export const securityHeadersPlugin = fp(async (app: FastifyInstance) => {
  // A callback hook, not an async one: this runs on every response, the token endpoint's included.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer');
    done(null, payload);
  });
});
