import { randomBytes } from 'node:crypto';
import { generateKeyPair, exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { isSealed, keyEncryptionKey, openPrivateJwk, sealPrivateJwk } from './key-encryption.js';

const KEK = new Uint8Array(randomBytes(32));

describe('TRUSTY_KEK', () => {
  it('refuses a value that is not 32 bytes of base64url, naming the variable', () => {
    for (const bad of ['short', randomBytes(31).toString('base64url'), randomBytes(33).toString('base64url'), randomBytes(32).toString('base64'), `${randomBytes(32).toString('base64url')}=`, `${'A'.repeat(42)}!`]) {
      expect(() => keyEncryptionKey(bad), bad).toThrow(/^TRUSTY_KEK must be 32 random bytes in base64url \(43 characters\)/);
    }
  });

  it('is absent when unset or empty, and 32 bytes otherwise', () => {
    expect(keyEncryptionKey(undefined)).toBeUndefined();
    expect(keyEncryptionKey('')).toBeUndefined();
    const value = Buffer.from(KEK).toString('base64url');
    expect(keyEncryptionKey(value)).toEqual(KEK);
  });
});

describe('sealed private JWKs', () => {
  it('does not open without the KEK, with another KEK, or in another row', async () => {
    const sealed = await sealPrivateJwk({ kty: 'oct', k: 'secret-member', kid: 'kid-1' }, 'kid-1', KEK);
    await expect(openPrivateJwk(sealed, 'kid-1', undefined)).rejects.toThrow('signing key kid-1 is encrypted: set TRUSTY_KEK to the key-encryption key it was written with');
    await expect(openPrivateJwk(sealed, 'kid-1', new Uint8Array(randomBytes(32)))).rejects.toThrow(
      'signing key kid-1 does not decrypt with TRUSTY_KEK: it was written with another key-encryption key',
    );
    await expect(openPrivateJwk(sealed, 'kid-2', KEK)).rejects.toThrow('signing key kid-2 does not decrypt with TRUSTY_KEK');
    // The header is authenticated: a kid changed in it breaks the tag.
    const [, ...rest] = sealed.split('.');
    const forged = [Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: 'kid-2', cty: 'jwk+json' })).toString('base64url'), ...rest].join('.');
    await expect(openPrivateJwk(forged, 'kid-2', KEK)).rejects.toThrow('signing key kid-2 does not decrypt with TRUSTY_KEK');
  });

  it('seals as a compact JWE (dir, A256GCM) holding no readable key member, and opens with the KEK', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'kid-1' };
    const sealed = await sealPrivateJwk(jwk, 'kid-1', KEK);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed).not.toContain(jwk.d!);
    expect(JSON.parse(Buffer.from(sealed.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'dir', enc: 'A256GCM', kid: 'kid-1', cty: 'jwk+json' });
    expect(await openPrivateJwk(sealed, 'kid-1', KEK)).toEqual(jwk);
    // Plaintext rows (written without TRUSTY_KEK) open without it.
    expect(isSealed(JSON.stringify(jwk))).toBe(false);
    expect(await openPrivateJwk(JSON.stringify(jwk), 'kid-1', undefined)).toEqual(jwk);
  });
});
