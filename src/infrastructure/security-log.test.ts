import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { securityLogLine } from './security-log.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, listener: securityLogLine(pino({ level: 'info', base: null, timestamp: false }, stream)) };
}

describe('security events as log lines', () => {
  it('writes a failed login at info with its reason class and never the username typed', () => {
    const { lines, listener } = capture();
    listener({ event: 'login.failure', clientId: 'web-app', ip: '192.0.2.1', details: { username: 'correct horse battery', reason: 'unknown_user' } });
    expect(lines).toEqual([{ level: 30, event: 'login.failure', client_id: 'web-app', ip: '192.0.2.1', reason: 'unknown_user', msg: 'login failed' }]);
  });

  it('writes refresh-token reuse and an account lock at warn', () => {
    const { lines, listener } = capture();
    listener({ event: 'refresh_token.reused', clientId: 'web-app', userId: 'u1', details: { grant_id: 'g' } });
    listener({ event: 'user.locked', userId: 'u1', details: { failures: 10, until: '2026-12-01T23:00:00.000Z' } });
    expect(lines.map((l) => [l.level, l.event, l.msg])).toEqual([
      [40, 'refresh_token.reused', 'a rotated refresh token was used again: its grant is revoked'],
      [40, 'user.locked', 'account locked after repeated failed logins'],
    ]);
    expect(lines[0]).not.toHaveProperty('grant_id');
    expect(lines[1]).toMatchObject({ failures: 10, until: '2026-12-01T23:00:00.000Z' });
  });

  it('names a management change and its actor without its content', () => {
    const { lines, listener } = capture();
    listener({ event: 'client.updated', clientId: 'svc', actor: 'client:ops', ip: '127.0.0.1', details: { before: { client_secret: 'x' }, after: { scope: 'a' } } });
    expect(lines).toEqual([{ level: 30, event: 'client.updated', client_id: 'svc', actor: 'client:ops', ip: '127.0.0.1', msg: 'management change' }]);
  });

  it('stays silent for the token endpoint heartbeat and other routine events', () => {
    const { lines, listener } = capture();
    listener({ event: 'token.issued', clientId: 'svc', details: { grant_type: 'client_credentials', jti: 'j' } });
    listener({ event: 'login.success', clientId: 'web-app', userId: 'u1' });
    expect(lines).toEqual([]);
  });
});
