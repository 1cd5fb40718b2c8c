import { describe, expect, it } from 'vitest';
import { clientFromConfig } from './to-domain.js';
import { ConfigError, parseConfig } from './load.js';

/** The per-client setting client_assertion_audience (draft-ietf-oauth-rfc7523bis): strict unless opted out. */

const SOURCE = '/srv/config.yaml';
const JWK = '{ kty: EC, crv: P-256, x: f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU, y: x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0 }';
const client = (fields: string) =>
  `clients:\n  - client_id: app\n    token_endpoint_auth_method: private_key_jwt\n    jwks: { keys: [${JWK}] }\n    redirect_uris: [https://app.example/cb]\n${fields}`;

describe('client_assertion_audience', () => {
  it('defaults to issuer, for oidc and fapi2 clients', () => {
    for (const profile of ['oidc', 'fapi2']) {
      const config = parseConfig(client(`    profile: ${profile}\n`), SOURCE, {});
      expect(clientFromConfig(config.clients[0]!).clientAssertionAudience).toBe('issuer');
    }
  });

  it('may be lenient for an oidc client', () => {
    const config = parseConfig(client('    client_assertion_audience: lenient\n'), SOURCE, {});
    expect(clientFromConfig(config.clients[0]!).clientAssertionAudience).toBe('lenient');
  });

  it('is refused as lenient for a fapi2 client (FAPI 2.0 §5.3.2.1)', () => {
    expect(() => parseConfig(client('    profile: fapi2\n    client_assertion_audience: lenient\n'), SOURCE, {})).toThrow(ConfigError);
    expect(() => parseConfig(client('    profile: fapi2\n    client_assertion_audience: lenient\n'), SOURCE, {})).toThrow(/clients\[0\]\.client_assertion_audience: must be issuer for a fapi2 client/);
  });

  it('refuses another value', () => {
    expect(() => parseConfig(client('    client_assertion_audience: token_endpoint\n'), SOURCE, {})).toThrow(/clients\[0\]\.client_assertion_audience/);
  });
});
