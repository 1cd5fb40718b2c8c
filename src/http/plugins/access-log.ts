import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Fastify's per-request log lines ('incoming request', 'request completed'), at debug level
 * instead of info: the token endpoint is the product's heartbeat, security events go to the
 * audit log, and failed requests are still logged at error level.
 */
export class DebugRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply);
    request.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
