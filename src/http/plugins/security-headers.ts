import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Headers every response carries. Pages add their own Content-Security-Policy. */
export const securityHeadersPlugin = fp(async (app: FastifyInstance) => {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
  });
});
