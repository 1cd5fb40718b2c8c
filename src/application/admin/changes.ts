import type { AuditLog } from '../ports/repositories.js';

/**
 * Who made a management change. `id` is `client:<client_id>` for the management API (the admin
 * token's client) and `cli:<os user>` for the CLI; `admin` says whether it holds trusty:admin
 * (the CLI, which has the database itself, always does): only such an actor may hand out
 * `trusty:` scopes, or a narrower admin scope would escalate to the whole control plane.
 */
export interface Actor {
  readonly id: string;
  readonly admin: boolean;
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
}

/** Members never written to the audit log, at any depth (secrets, password hashes, private JWK parts). */
const SECRET_MEMBERS = new Set([
  'client_secret',
  'secret',
  'secret_digest',
  'secretDigest',
  'previous_secret_digest',
  'password',
  'password_hash',
  'passwordHash',
  'private_jwk',
  'private_key',
  'd',
  'p',
  'q',
  'dp',
  'dq',
  'qi',
  'k',
  'oth',
]);

/** A copy of `value` without secret members (bounded depth: these are small records). */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withoutSecrets(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (!SECRET_MEMBERS.has(key)) out[key] = withoutSecrets(member, depth + 1);
  }
  return out;
}

/** Records a management change: who, what, on which client or user, before and after (no secrets). */
export function recordChange(
  audit: AuditLog,
  actor: Actor,
  event: string,
  subject: { readonly clientId?: string | undefined; readonly userId?: string | undefined },
  before?: unknown,
  after?: unknown,
): void {
  audit.record({
    event,
    clientId: subject.clientId,
    userId: subject.userId,
    actor: actor.id,
    ip: actor.ip,
    userAgent: actor.userAgent,
    details: {
      ...(before !== undefined ? { before: withoutSecrets(before) } : {}),
      ...(after !== undefined ? { after: withoutSecrets(after) } : {}),
    },
  });
  // Written now rather than within the usual batching delay: a management change committed a
  // moment ago must not lose its audit row to a crash (a handful of rows a day, off the hot path).
  void audit.flush();
}
