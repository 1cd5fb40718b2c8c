import type { FastifyRequest } from 'fastify';
import { callerKey } from '../application/authorize/caller-key.js';
import { assertionIssuer } from '../protocol/client-assertion.js';
import { extractClientCredentials } from '../protocol/client-credentials.js';
import { InvalidClient } from '../protocol/errors.js';
import type { RawParameters } from '../protocol/parameters.js';
import type { HttpDeps } from './deps.js';

/** Where a failed client authentication is recorded and counted. */
export type FailedClientAuthDeps = Pick<HttpDeps, 'failedClientAuth' | 'addressLimits'>;

/**
 * Where a client authenticates (/token, /par, /introspect, /revoke), on failure: records an
 * invalid_client refusal (who was named, the method, the error_description, IP and user agent;
 * never the secret or the assertion), and counts it against the caller's address
 * (rate_limits.per_ip.failed_client_auth, checked before authentication by
 * src/http/plugins/rate-limit.ts); any other error is not a failed authentication.
 */
export function recordIfClientAuthFailed(deps: FailedClientAuthDeps, request: FastifyRequest, endpoint: string, error: unknown): void {
  if (!(error instanceof InvalidClient)) return;
  // The key the per-address limits use (IPv6 by its /64); parsed here, on the way that failed.
  deps.addressLimits?.failedClientAuth.fail(callerKey(request.ip));
  const { method, clientId } = presented(request.headers.authorization, request.body);
  deps.failedClientAuth.record({ clientId, method, reason: error.description, endpoint, ip: request.ip, userAgent: request.headers['user-agent'] });
}

/** recordIfClientAuthFailed for `.catch()`: records, then rethrows. */
export function recordingFailedClientAuth(deps: FailedClientAuthDeps, request: FastifyRequest, endpoint: string) {
  return (error: unknown): never => {
    recordIfClientAuthFailed(deps, request, endpoint, error);
    throw error;
  };
}

/** What the caller presented, read again leniently (the authenticator refused it: it may be malformed). */
function presented(authorization: string | undefined, body: unknown): { method: string; clientId: string | undefined } {
  const params: Record<string, string | undefined> = {};
  if (typeof body === 'object' && body !== null) {
    for (const name of ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type']) {
      const value = (body as RawParameters)[name];
      params[name] = typeof value === 'string' && value !== '' ? value : undefined;
    }
  }
  try {
    const credentials = extractClientCredentials(authorization, params);
    const clientId = credentials.method === 'private_key_jwt' ? (credentials.clientId ?? assertionIssuer(credentials.assertion)) : credentials.clientId;
    return { method: credentials.method, clientId };
  } catch {
    // Malformed Basic credentials, or no client_id at all.
    return { method: authorization !== undefined && /^basic/i.test(authorization) ? 'client_secret_basic' : 'none', clientId: undefined };
  }
}
