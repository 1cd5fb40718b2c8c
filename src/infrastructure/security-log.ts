import type { Logger } from 'pino';
import type { AuditEvent } from '../application/ports/repositories.js';

/**
 * One log line at info (warn for what suggests an attack) per security event, for operators who
 * read logs rather than the audit table (docs/operations.md, "Logs", lists the fields). Built
 * from an allow-list: an event's details are never copied whole (a management change's before
 * and after, a username that may be a mistyped password), so nothing secret reaches the logs.
 */
interface Rule {
  readonly level: 'info' | 'warn';
  readonly msg: string;
  /** Members of `details` copied to the line. */
  readonly details?: readonly string[];
}

const RULES: Readonly<Record<string, Rule>> = {
  'login.failure': { level: 'info', msg: 'login failed', details: ['reason'] },
  'user.locked': { level: 'warn', msg: 'account locked after repeated failed logins', details: ['failures', 'until', 'lock'] },
  'user.unlocked': { level: 'info', msg: 'account unlocked' },
  'refresh_token.reused': { level: 'warn', msg: 'a rotated refresh token was used again: its grant is revoked' },
  'code.replayed': { level: 'warn', msg: 'an authorization code was used twice: its grant is revoked' },
  // Aggregated upstream (src/application/services/failed-client-auth.ts): at most one per key and minute beyond the first ones.
  'client.auth_failed': { level: 'info', msg: 'client authentication failed', details: ['method', 'reason', 'endpoint', 'suppressed'] },
};

/** Events recorded with an actor are management changes (docs/audit.md); their line names the change, not its content. */
const CHANGE_MSG = 'management change';

export function securityLogLine(log: Logger): (event: AuditEvent) => void {
  return (event) => {
    const rule = RULES[event.event];
    const change = rule === undefined && event.actor !== undefined;
    if (rule === undefined && !change) return;
    const line: Record<string, unknown> = { event: event.event };
    if (event.clientId !== undefined) line.client_id = event.clientId;
    if (event.userId !== undefined) line.user_id = event.userId;
    if (event.actor !== undefined) line.actor = event.actor;
    if (event.ip !== undefined) line.ip = event.ip;
    for (const name of rule?.details ?? []) {
      const value = event.details?.[name];
      if (value !== undefined && (typeof value !== 'object' || value === null)) line[name] = value;
    }
    if (rule === undefined) log.info(line, CHANGE_MSG);
    else log[rule.level](line, rule.msg);
  };
}
