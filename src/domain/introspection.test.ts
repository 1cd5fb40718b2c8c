import { describe, expect, it } from 'vitest';
import { client } from '../../test/unit/fixtures.js';
import { mayIntrospectAccessToken } from './introspection.js';

const ISSUER = 'https://id.example.com';
const API = 'https://api.example.com/';

describe('who may introspect an access token (RFC 7662 §4)', () => {
  const rs = client({ clientId: 'rs', resourceServer: true, grantTypes: [], introspectionAudiences: [API] });

  it('lets the client it was issued to see it', () => {
    expect(mayIntrospectAccessToken(client({ clientId: 'svc' }), { clientId: 'svc', aud: ISSUER })).toBe(true);
  });

  it('lets a client named in aud see it (string or array)', () => {
    const named = client({ clientId: 'urn:example:rs' });
    expect(mayIntrospectAccessToken(named, { clientId: 'svc', aud: 'urn:example:rs' })).toBe(true);
    expect(mayIntrospectAccessToken(named, { clientId: 'svc', aud: [API, 'urn:example:rs'] })).toBe(true);
  });

  it('lets a resource server registered for one of the audiences see it', () => {
    expect(mayIntrospectAccessToken(rs, { clientId: 'svc', aud: API })).toBe(true);
    expect(mayIntrospectAccessToken(rs, { clientId: 'svc', aud: ['https://other.example.com/', API] })).toBe(true);
  });

  it.each([
    ['a resource server registered for other audiences', rs, ISSUER],
    ['a resource server registered for none', client({ clientId: 'rs2', resourceServer: true, grantTypes: [] }), API],
    ['another confidential client', client({ clientId: 'web-app' }), API],
    // introspectionAudiences counts for resource servers only (the config refuses it elsewhere).
    ['a client that is not a resource server, whatever it lists', client({ clientId: 'web-app', introspectionAudiences: [API] }), API],
  ])('hides it from %s', (_name, caller, aud) => {
    expect(mayIntrospectAccessToken(caller, { clientId: 'svc', aud })).toBe(false);
    expect(mayIntrospectAccessToken(caller, { clientId: 'svc', aud: [aud] })).toBe(false);
  });

  it('hides a token without a usable aud from everyone but its client', () => {
    for (const aud of [undefined, 42, [42], {}]) expect(mayIntrospectAccessToken(rs, { clientId: 'svc', aud })).toBe(false);
  });
});
