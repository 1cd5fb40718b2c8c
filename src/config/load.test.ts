import { describe, expect, it } from 'vitest';
import { configFails } from '../../test/support/config.js';
import { issuerPortMismatch, parseConfig } from './load.js';

const SOURCE = '/srv/config.yaml';

const fails = configFails;

const client = (fields: string) => `clients:\n  - client_id: app\n    redirect_uris: [https://app.example/cb]\n    client_secret: s3cret-s3cret-s3cret-s3cret-s3cret-1\n${fields}`;

describe('config.yaml validation: one line naming the field', () => {
  it('applies the documented defaults to an empty file', () => {
    const config = parseConfig('', SOURCE);
    expect(config).toMatchObject({
      issuer: 'http://127.0.0.1:8081',
      port: 8081,
      host: '127.0.0.1',
      log_level: 'info',
      database: { path: '/srv/data/trusty.db' },
      tokens: { access_token_ttl: 600, authorization_code_ttl: 60, refresh_token_ttl: 2592000 },
      par: { request_uri_ttl: 60, required: false },
      dpop: { require_nonce: true, proof_max_age: 60 },
      passwords: { bcrypt_cost: 12 },
      clients: [],
      users: [],
    });
  });

  it.each([
    ['a redirect URI with a fragment', 'clients:\n  - {client_id: a, token_endpoint_auth_method: none, redirect_uris: [https://app.example/cb#x]}\n', 'clients[0].redirect_uris[0]: must be an absolute URL without a fragment'],
    ['a duplicate key', client('    redirect_uris: [https://app.example/other]\n'), 'line 5, column 5: Map keys must be unique'],
    ['a misspelt key', client('    redirect_uri: https://app.example/cb\n'), 'clients[0].redirect_uri: is not a known setting'],
    ['an unknown top-level key', 'isuer: https://id.example\n', 'isuer: is not a known setting'],
    ['an unknown auth method', client('    token_endpoint_auth_method: tls_client_auth\n'), 'clients[0].token_endpoint_auth_method: must be one of "client_secret_basic", "client_secret_post", "private_key_jwt", "none"'],
    ['a port out of range', 'port: 70000\n', 'port (or PORT): Too big: expected number to be <=65535'],
    ['an http issuer off loopback', 'issuer: http://id.example\n', 'issuer (or ISSUER): must be https (http only on a loopback host)'],
    ['an issuer with a trailing slash', 'issuer: https://id.example/\n', 'issuer (or ISSUER): must have no trailing slash and no query'],
    ['a code lifetime over 60 s (FAPI 2.0)', 'tokens:\n  authorization_code_ttl: 61\n', 'tokens.authorization_code_ttl: Too big: expected number to be <=60'],
    ['a request_uri lifetime of 600 s', 'par:\n  request_uri_ttl: 600\n', 'par.request_uri_ttl: Too big: expected number to be <=599'],
    ['a duplicate client', 'clients:\n  - {client_id: a, token_endpoint_auth_method: none, redirect_uris: [https://a.example/cb]}\n  - {client_id: a, token_endpoint_auth_method: none, redirect_uris: [https://a.example/cb]}\n', 'clients[1].client_id: duplicates clients[0]'],
    ['a secret on a public client', 'clients:\n  - {client_id: a, token_endpoint_auth_method: none, client_secret: x, redirect_uris: [https://a.example/cb]}\n', 'clients[0].client_secret: must not be set with token_endpoint_auth_method none'],
    ['a fapi2 client with a secret', client('    profile: fapi2\n'), 'clients[0].token_endpoint_auth_method: must be private_key_jwt for a fapi2 client'],
    ['a private key in jwks', 'clients:\n  - {client_id: a, token_endpoint_auth_method: private_key_jwt, redirect_uris: [https://a.example/cb], jwks: {keys: [{kty: EC, crv: P-256, x: a, y: b, d: c}]}}\n', 'clients[0].jwks.keys[0]: must be a public key (no d, p, q, dp, dq, qi, k)'],
    ['a password over 72 bytes', `users:\n  - {username: u, password: ${'p'.repeat(73)}}\n`, 'users[0].password: must be at most 72 bytes (bcrypt limit)'],
    ['a missing username', 'users:\n  - {password: p}\n', 'users[0].username: is required'],
  ])('refuses %s', (_name, text, message) => {
    expect(fails(text)).toBe(`${SOURCE}: ${message}`);
  });

  it('names the line and column of a YAML syntax error', () => {
    expect(fails('port: 8081\nclients: [\n  - a: b\n')).toMatch(/^\/srv\/config\.yaml: line \d+, column \d+: /);
  });

  it('refuses a file that is not a mapping', () => {
    expect(fails('- a\n- b\n')).toBe(`${SOURCE}: the file must hold a mapping of settings (issuer, port, clients, …)`);
  });

  it('lets PORT, HOST, ISSUER, LOG_LEVEL and DATABASE_PATH override the file', () => {
    const env = { PORT: '9000', HOST: '0.0.0.0', ISSUER: 'https://id.example', LOG_LEVEL: 'warn', DATABASE_PATH: '/var/lib/trusty.db' };
    const config = parseConfig('port: 8081\nissuer: http://127.0.0.1:8081\n', SOURCE, env);
    expect(config).toMatchObject({ port: 9000, host: '0.0.0.0', issuer: 'https://id.example', log_level: 'warn', database: { path: '/var/lib/trusty.db' } });
  });

  it('names the environment variable when its value is wrong, and says what is wrong', () => {
    expect(fails('', { PORT: 'eighty' })).toBe(`${SOURCE}: port (or PORT): Invalid input: expected number, received string`);
    expect(fails('port: 80.5\n')).toBe(`${SOURCE}: port (or PORT): Invalid input: expected int, received number`);
    expect(fails('clients: 5\n')).toBe(`${SOURCE}: clients: Invalid input: expected array, received number`);
  });
});

describe('the issuer nobody set follows PORT and HOST', () => {
  it('is http://127.0.0.1:<PORT> when only PORT is set', () => {
    expect(parseConfig('', SOURCE, { PORT: '18094' }).issuer).toBe('http://127.0.0.1:18094');
    expect(parseConfig('port: 9001\n', SOURCE).issuer).toBe('http://127.0.0.1:9001');
  });

  it('follows a loopback HOST, and reaches a wildcard host on loopback', () => {
    expect(parseConfig('', SOURCE, { HOST: 'localhost', PORT: '9002' }).issuer).toBe('http://localhost:9002');
    expect(parseConfig('', SOURCE, { HOST: '::1' }).issuer).toBe('http://[::1]:8081');
    expect(parseConfig('', SOURCE, { HOST: '0.0.0.0' }).issuer).toBe('http://127.0.0.1:8081');
    expect(parseConfig('', SOURCE, { HOST: '::' }).issuer).toBe('http://[::1]:8081');
  });

  it('keeps an issuer that the file or ISSUER names', () => {
    expect(parseConfig('issuer: https://id.example\n', SOURCE, { PORT: '9003' }).issuer).toBe('https://id.example');
    expect(parseConfig('', SOURCE, { PORT: '9003', ISSUER: 'https://login.example' }).issuer).toBe('https://login.example');
  });

  it('says where the issuer came from when a non-loopback HOST makes it invalid', () => {
    expect(fails('', { HOST: '192.0.2.10' })).toBe(
      `${SOURCE}: issuer (or ISSUER): must be https (http only on a loopback host) (http://192.0.2.10:8081, made from host and port: set ISSUER or issuer)`,
    );
  });

  it('warns when a loopback issuer names another port than the listening one', () => {
    expect(issuerPortMismatch({ issuer: 'http://127.0.0.1:8081', port: 18094, host: '127.0.0.1' })).toBe(
      'the issuer http://127.0.0.1:8081 names port 8081 but the server listens on port 18094: set ISSUER (or issuer) to this server\'s public address, or leave it unset to follow PORT and HOST',
    );
    expect(issuerPortMismatch({ issuer: 'http://localhost', port: 8081, host: 'localhost' })).toMatch(/names port 80 but the server listens on port 8081/);
    expect(issuerPortMismatch({ issuer: 'http://127.0.0.1:8081', port: 8081, host: '127.0.0.1' })).toBeUndefined();
    // Behind a proxy, or a container's port mapping (9000:8081, listening on 0.0.0.0), the public port differs by design.
    expect(issuerPortMismatch({ issuer: 'https://id.example', port: 8081, host: '127.0.0.1' })).toBeUndefined();
    expect(issuerPortMismatch({ issuer: 'http://localhost:9000', port: 8081, host: '0.0.0.0' })).toBeUndefined();
  });
});

describe('trust_proxy', () => {
  it('is off by default and takes addresses and CIDR ranges, from the file or TRUST_PROXY', () => {
    expect(parseConfig('', SOURCE).trust_proxy).toEqual([]);
    expect(parseConfig('trust_proxy: [10.0.0.0/8, "fd00::/8", 127.0.0.1, loopback]\n', SOURCE).trust_proxy).toEqual(['10.0.0.0/8', 'fd00::/8', '127.0.0.1', 'loopback']);
    expect(parseConfig('', SOURCE, { TRUST_PROXY: '10.1.2.3, 172.16.0.0/12' }).trust_proxy).toEqual(['10.1.2.3', '172.16.0.0/12']);
  });

  it.each([
    ['a host name', 'trust_proxy: [proxy.internal]\n', 'trust_proxy[0] (or TRUST_PROXY): must be an IP address, a CIDR range of at least /8 (10.0.0.0/8) or loopback, linklocal, uniquelocal'],
    ['a prefix too long', 'trust_proxy: [10.0.0.0/33]\n', 'trust_proxy[0] (or TRUST_PROXY): must be an IP address, a CIDR range of at least /8 (10.0.0.0/8) or loopback, linklocal, uniquelocal'],
    ['every address (/0)', 'trust_proxy: [0.0.0.0/0]\n', 'trust_proxy[0] (or TRUST_PROXY): must be an IP address, a CIDR range of at least /8 (10.0.0.0/8) or loopback, linklocal, uniquelocal'],
    ['true (every address)', 'trust_proxy: true\n', 'trust_proxy (or TRUST_PROXY): Invalid input: expected array, received boolean'],
  ])('refuses %s', (_name, text, message) => {
    expect(fails(text)).toBe(`${SOURCE}: ${message}`);
  });
});
