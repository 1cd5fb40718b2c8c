import { describe, expect, it } from 'vitest';
import { configFails } from '../../test/support/config.js';
import { clientFromConfig } from './to-domain.js';
import { parseConfig } from './load.js';

/** config.yaml: resource_server clients and introspection_audiences (RFC 7662 §4). */
const SOURCE = '/srv/config.yaml';
const RS = 'clients:\n  - client_id: rs\n    client_secret: s3cret-s3cret-s3cret-s3cret-s3cret-1\n    resource_server: true\n    grant_types: []\n';

const fails = configFails;

describe('config.yaml: resource_server clients', () => {
  it('takes introspection_audiences (resources or the issuer) on a resource_server, none by default', () => {
    const config = parseConfig(`${RS}    introspection_audiences: [https://api.example.com/, http://127.0.0.1:8081, https://api.example.com/]\n`, SOURCE, {});
    expect(clientFromConfig(config.clients[0]!).introspectionAudiences).toEqual(['https://api.example.com/', 'http://127.0.0.1:8081']);
    expect(clientFromConfig(parseConfig(RS, SOURCE, {}).clients[0]!).introspectionAudiences).toEqual([]);
  });

  it.each([
    [
      'introspection_audiences on a client that is not a resource_server',
      'clients:\n  - {client_id: app, client_secret: s3cret-s3cret-s3cret-s3cret-s3cret-1, redirect_uris: [https://app.example/cb], introspection_audiences: [https://api.example.com/]}\n',
      'clients[0].introspection_audiences: is only for a resource_server client (a client sees the tokens issued to it and those naming it in aud)',
    ],
    ['an audience that is not an absolute URL', `${RS}    introspection_audiences: [api]\n`, 'clients[0].introspection_audiences[0]: must be an absolute URL without a fragment'],
    ['more than 50 audiences', `${RS}    introspection_audiences: [${Array.from({ length: 51 }, (_, i) => `https://a${i}.example/`).join(', ')}]\n`, 'clients[0].introspection_audiences: Too big: expected array to have <=50 items'],
    ['redirect_uris on a resource_server', `${RS}    redirect_uris: [https://rs.example/cb]\n`, 'clients[0].redirect_uris: must be empty for a resource_server client (it may only introspect)'],
    ['post_logout_redirect_uris on a resource_server', `${RS}    post_logout_redirect_uris: [https://rs.example/]\n`, 'clients[0].post_logout_redirect_uris: must be empty for a resource_server client (it may only introspect)'],
    ['backchannel_logout_uri on a resource_server', `${RS}    backchannel_logout_uri: https://rs.example/logout\n`, 'clients[0].backchannel_logout_uri: must not be set for a resource_server client (it may only introspect)'],
  ])('refuses %s', (_name, text, message) => {
    expect(fails(text)).toBe(`${SOURCE}: ${message}`);
  });
});
