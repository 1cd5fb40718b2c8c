import { describe, expect, it } from 'vitest';
import { configFails } from '../../test/support/config.js';
import { parseConfig } from './load.js';
import { clientFromConfig } from './to-domain.js';

/** config.yaml: the roles: list, and roles on clients and users (docs/roles.md). */
const SOURCE = '/srv/config.yaml';
const SECRET = 's3cret-s3cret-s3cret-s3cret-s3cret-1';
const ROLES = 'roles:\n  - {name: billing, scope: "invoices:read invoices:write", resources: [https://billing.example/]}\n  - {name: audit.reader}\n';
const machine = (extra: string) => `clients:\n  - {client_id: m, client_secret: ${SECRET}, grant_types: [client_credentials], scope: a ${extra}}\n`;

const fails = configFails;

describe('config.yaml: roles', () => {
  it.each([
    ['a client naming a role the file does not declare', `${ROLES}${machine(', roles: [billing, nope]')}`, 'clients[0].roles[1]: names an unknown role "nope" (not in roles:)'],
    ['a client naming a role when the file declares none', machine(', roles: [billing]'), 'clients[0].roles[0]: names an unknown role "billing" (not in roles:)'],
    [
      'a user naming an unknown role',
      `${ROLES}users:\n  - {username: a, password: p}\n  - {username: b, password: p, roles: [audit.reader, ghost]}\n`,
      'users[1].roles[1]: names an unknown role "ghost" (not in roles:)',
    ],
    ['a role declared twice', `${ROLES}  - {name: billing}\n`, 'roles[2].name: duplicates roles[0]'],
    ['a role name with a space', 'roles:\n  - {name: "bad name"}\n', 'roles[0].name: must be 1–64 characters of A–Z a–z 0–9 . _ : -'],
    ['a role name longer than 64 characters', `roles:\n  - {name: ${'r'.repeat(65)}}\n`, 'roles[0].name: must be 1–64 characters of A–Z a–z 0–9 . _ : -'],
    ['a malformed role scope', 'roles:\n  - {name: r, scope: "a\\"b"}\n', 'roles[0].scope: must be space-separated scope tokens (RFC 6749 §3.3)'],
    ['a relative role resource', 'roles:\n  - {name: r, resources: [/api]}\n', 'roles[0].resources[0]: must be an absolute URL without a fragment'],
    ['an unknown role setting', 'roles:\n  - {name: r, scopes: a}\n', 'roles[0].scopes: is not a known setting'],
    ['roles_claim that is not a boolean', machine(', roles_claim: "yes"'), 'clients[0].roles_claim: Invalid input: expected boolean, received string'],
  ])('refuses %s, naming the field', (_name, text, message) => {
    expect(fails(text)).toBe(`${SOURCE}: ${message}`);
  });

  it('takes roles, client roles and roles_claim (default false)', () => {
    const config = parseConfig(`${ROLES}${machine(', roles: [billing], roles_claim: true')}users:\n  - {username: a, password: p, roles: [audit.reader]}\n`, SOURCE, {});
    expect(config.roles).toEqual([
      { name: 'billing', scope: 'invoices:read invoices:write', resources: ['https://billing.example/'] },
      { name: 'audit.reader', scope: '', resources: [] },
    ]);
    expect(config.clients[0]!.roles).toEqual(['billing']);
    expect(config.users[0]!.roles).toEqual(['audit.reader']);
    expect(clientFromConfig(config.clients[0]!).rolesClaim).toBe(true);
    expect(clientFromConfig(parseConfig(machine(''), SOURCE, {}).clients[0]!).rolesClaim).toBe(false);
  });
});
