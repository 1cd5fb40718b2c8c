import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AdminError } from '../../application/admin/errors.js';
import { InsufficientScope, InvalidToken, OAuthError, UseDpopNonce } from '../../protocol/errors.js';
import { bearerChallenge, dpopChallenge, isDpopError, MissingAccessToken } from '../plugins/error-handler.js';

/** RFC 9457 §3: a problem type per kind of failure, resolvable to nothing in particular (§3.1.1). */
const PROBLEM_BASE = 'urn:trusty:problem:';

interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly field?: string;
  readonly errors?: ReadonlyArray<{ readonly field: string; readonly message: string }>;
}

/** An error the admin plugin answers as it is (status, problem, headers). */
export class AdminHttpError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem.detail ?? problem.title);
  }
}

/** A zod failure as a 400 problem naming every field at fault (dotted paths, `redirect_uris.0`). */
export function invalidInput(error: z.ZodError, where: 'body' | 'query' | 'params'): AdminHttpError {
  const errors = error.issues.slice(0, 20).flatMap((issue) => {
    const path = issue.path.map(String);
    // An unknown member is the field at fault itself (a typo must not pass for a default).
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: [...path, key].join('.'), message: 'is not a known field' }));
    return [{ field: path.length > 0 ? path.join('.') : where, message: issue.message }];
  });
  return new AdminHttpError({
    type: `${PROBLEM_BASE}invalid-request`,
    title: 'Invalid request',
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    field: errors[0]?.field,
    errors,
  });
}

const STATUS_OF: Record<AdminError['kind'], { status: number; title: string; type: string }> = {
  not_found: { status: 404, title: 'Not found', type: 'not-found' },
  conflict: { status: 409, title: 'Conflict', type: 'conflict' },
  invalid_field: { status: 400, title: 'Invalid request', type: 'invalid-request' },
  forbidden: { status: 403, title: 'Forbidden', type: 'forbidden' },
};

/**
 * The management API's one error handler: every failure is an RFC 9457 problem
 * (application/problem+json); token failures also carry the RFC 6750 / RFC 9449 challenge.
 */
export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply, realm: string): FastifyReply {
  let problem: Problem;
  let headers: Readonly<Record<string, string>> = {};
  if (error instanceof AdminHttpError) {
    ({ problem, headers } = error);
  } else if (error instanceof AdminError) {
    const kind = STATUS_OF[error.kind];
    problem = {
      type: PROBLEM_BASE + kind.type,
      title: kind.title,
      status: kind.status,
      detail: error.message,
      ...(error.field !== undefined ? { field: error.field, errors: [{ field: error.field, message: error.message }] } : {}),
    };
  } else if (error instanceof OAuthError) {
    problem = tokenProblem(error);
    headers = tokenChallenge(error, request, realm);
  } else {
    const fastifyError = error as Partial<FastifyError>;
    const status = fastifyError.statusCode;
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      problem = { type: `${PROBLEM_BASE}unsupported-media-type`, title: 'Unsupported media type', status: 415, detail: 'the request body must be application/json' };
    } else if (typeof status === 'number' && status >= 400 && status < 500) {
      problem = { type: `${PROBLEM_BASE}invalid-request`, title: 'Invalid request', status: status === 413 ? 413 : 400, detail: status === 413 ? 'the request body is too large' : 'the request body is not valid JSON' };
    } else {
      request.log.error({ err: error }, 'unexpected error in the management API');
      problem = { type: `${PROBLEM_BASE}server-error`, title: 'Internal server error', status: 500, detail: 'an unexpected error occurred' };
    }
  }
  reply.code(problem.status).header('content-type', 'application/problem+json; charset=utf-8').header('cache-control', 'no-store');
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  return reply.send(JSON.stringify(problem));
}

function tokenProblem(error: OAuthError): Problem {
  const insufficient = error instanceof InsufficientScope;
  const status = insufficient ? 403 : error instanceof InvalidToken || error instanceof MissingAccessToken || isDpopError(error) ? 401 : error.status;
  return {
    type: PROBLEM_BASE + error.error.replace(/_/g, '-'),
    title: insufficient ? 'Insufficient scope' : status === 401 ? 'Unauthorized' : 'Invalid request',
    status,
    detail: error.description,
  };
}

/** RFC 6750 §3 and RFC 9449 §7.1: the challenge of a protected resource, in the scheme the caller used. */
function tokenChallenge(error: OAuthError, request: FastifyRequest, realm: string): Record<string, string> {
  const dpop = isDpopError(error) || /^dpop /i.test(request.headers.authorization ?? '');
  const headers: Record<string, string> = { 'www-authenticate': dpop ? dpopChallenge(realm, error) : bearerChallenge(realm, error) };
  if (error instanceof UseDpopNonce) headers['dpop-nonce'] = error.nonce;
  if (error instanceof AdminScopeRequired) headers['www-authenticate'] += `, scope="${error.scope}"`;
  return headers;
}

/** RFC 6750 §3.1: the token lacks the scope; the challenge names the scopes that would do. */
export class AdminScopeRequired extends InsufficientScope {
  constructor(
    description: string,
    readonly scope: string,
  ) {
    super(description);
  }
}
