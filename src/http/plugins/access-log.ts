import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

const DEBUG_LEVELS = new Set(['debug', 'trace']);

/**
 * Fastify's per-request log lines ('incoming request', 'request completed'), at debug level
 * instead of info: the token endpoint is the product's heartbeat, security events go to the
 * audit log, and failed requests are still logged at error level.
 */
export class DebugRequestLog extends LogController {
  // Checked first: building the line's object (and reading the clock for elapsedTime) costs
  // something on every request even when pino then drops it.
  override incomingRequest(request: FastifyRequest): void {
    if (DEBUG_LEVELS.has(request.log.level)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply);
    if (DEBUG_LEVELS.has(request.log.level)) request.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
