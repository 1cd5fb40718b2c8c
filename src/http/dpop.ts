import type { FastifyReply } from 'fastify';
import type { HttpDeps } from './deps.js';

/** RFC 9449 §8.2: a fresh nonce rides on every answer to a DPoP request when nonces are required. */
export function addDpopNonce(reply: FastifyReply, deps: HttpDeps, hadProof: boolean): void {
  const nonce = hadProof ? deps.dpop.currentNonce() : undefined;
  if (nonce !== undefined) reply.header('dpop-nonce', nonce);
}
