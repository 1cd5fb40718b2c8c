import { describe, expect, it } from 'vitest';
import { CENSORED, censorSecrets, createLogger } from './logger.js';

function capture(level = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe('logger', () => {
  it('censors secrets at the top of a logged object and one level down, and keeps the rest', () => {
    const { log, lines } = capture();
    const headers = { authorization: 'Basic c2VjcmV0', cookie: 'trusty_session=abc', accept: 'text/html' };
    log.info({ password: 'alice-password', headers, form: { client_secret: 's3cret', access_token: 'eyJ', refresh_token: 'rt', id_token: 'it', scope: 'openid' }, params: { code: 'c0de', code_verifier: 'v3rifier', client_assertion: 'eyA' }, user: 'alice' }, 'event');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'event',
      service: 'trusty',
      password: CENSORED,
      headers: { authorization: CENSORED, cookie: CENSORED, accept: 'text/html' },
      form: { client_secret: CENSORED, access_token: CENSORED, refresh_token: CENSORED, id_token: CENSORED, scope: 'openid' },
      params: { code: CENSORED, code_verifier: CENSORED, client_assertion: CENSORED },
      user: 'alice',
    });
    expect(JSON.stringify(lines[0])).not.toMatch(/alice-password|c2VjcmV0|s3cret|eyJ|eyA|abc|c0de|v3rifier/);
    // The caller's objects are not changed.
    expect(headers.authorization).toBe('Basic c2VjcmV0');
  });

  it('leaves child logger bindings (request ids) alone, and request lines carry only method, path and ip', () => {
    const { log, lines } = capture('debug');
    const child = log.child({ reqId: 'req-1' });
    child.debug({ req: { id: 'req-1', method: 'POST', url: '/token?code=abc', ip: '127.0.0.1', headers: { authorization: 'Basic x' } } }, 'incoming request');
    expect(lines[0]).toMatchObject({ reqId: 'req-1', req: { id: 'req-1', method: 'POST', path: '/token', ip: '127.0.0.1' } });
    expect(JSON.stringify(lines[0])).not.toMatch(/code=abc|Basic/);
  });

  it('serialises errors with their code and message', () => {
    const { log, lines } = capture();
    log.error({ err: Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }) }, 'could not start');
    expect(lines[0]).toMatchObject({ err: { message: 'listen EADDRINUSE', code: 'EADDRINUSE', type: 'Error' } });
  });

  it('returns the same object when nothing is secret (no copy on the common path)', () => {
    const object = { client_id: 'svc', details: { grant_type: 'client_credentials' } };
    expect(censorSecrets(object)).toBe(object);
  });
});
