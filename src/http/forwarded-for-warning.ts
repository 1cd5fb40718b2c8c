import type { FastifyBaseLogger, FastifyRequest } from 'fastify';

/**
 * With trust_proxy empty, Fastify ignores X-Forwarded-For (rightly: anyone can send it). But a
 * request that carries one most likely came through a reverse proxy nobody listed, and then every
 * client has the proxy's address: the per-address rate limits count them all together, and the
 * audit log records the proxy. The operator is told once per server, not per request (a busy
 * proxy would fill the log); after that the check is one boolean. Before it, one header lookup.
 */
export function untrustedForwardedForWarning(log: FastifyBaseLogger): (request: FastifyRequest) => void {
  let warned = false;
  return (request) => {
    if (warned || request.headers['x-forwarded-for'] === undefined) return;
    warned = true;
    const ip = request.ip;
    log.warn(
      { ip },
      `X-Forwarded-For received from ${ip} but trust_proxy is empty: client addresses are the proxy's (rate limits count all clients together); set trust_proxy`,
    );
  };
}
