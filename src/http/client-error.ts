import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';

/** What a request Node's HTTP parser refused gets: RFC 6749 §5.2 JSON, never a framework body. */
const ANSWERS: Record<string, { status: string; description: string }> = {
  HPE_HEADER_OVERFLOW: { status: '431 Request Header Fields Too Large', description: 'the request headers are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: '408 Request Timeout', description: 'the request took too long to arrive' },
};
const MALFORMED = { status: '400 Bad Request', description: 'the request is malformed' };

/**
 * Fastify's clientErrorHandler: a request line or headers that Node's parser refuses (an
 * oversized header, an unknown method, a raw byte in the target) never reach the routes, so
 * the error handler cannot shape them. Contract: such errors are invalid_request JSON with
 * no-store too. The connection is closed, as Node and Fastify do.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // The peer is gone: nothing to answer (node's http docs, 'clientError').
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, description } = ANSWERS[error.code ?? ''] ?? MALFORMED;
  const body = JSON.stringify({ error: 'invalid_request', error_description: description });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Cache-Control: no-store\r\nPragma: no-cache\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Fastify's frameworkErrors: a target its router cannot decode ('/%') or a path parameter over
 * maxParamLength is refused before any route or error handler runs; same contract.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const description = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is too long' : 'the request target is malformed';
  void reply
    .code(400)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .send({ error: 'invalid_request', error_description: description });
}
