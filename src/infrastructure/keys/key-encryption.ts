import { CompactEncrypt, compactDecrypt, type JWK } from 'jose';

/** The environment variable holding the key-encryption key: base64url of 32 random bytes. */
export const KEK_VARIABLE = 'TRUSTY_KEK';

/** RFC 7518 §4.5 (direct encryption) with §5.3 AES-256-GCM: the KEK is the content key. */
const SEAL = { alg: 'dir', enc: 'A256GCM' } as const;

/** A signing key cannot be read or written as it is stored: the message names TRUSTY_KEK. */
export class KeyEncryptionError extends Error {
  override readonly name = 'KeyEncryptionError';
}

/** The KEK from its environment value: undefined when unset, an error when it is not 32 bytes in base64url. */
export function keyEncryptionKey(value: string | undefined): Uint8Array | undefined {
  if (value === undefined || value === '') return undefined;
  // 32 bytes are 43 base64url characters, no padding (RFC 4648 §5); Buffer would skip bad characters.
  if (!/^[A-Za-z0-9_-]{43}$/.test(value)) {
    throw new KeyEncryptionError(`${KEK_VARIABLE} must be 32 random bytes in base64url (43 characters), e.g. node -e "console.log(crypto.randomBytes(32).toString('base64url'))"`);
  }
  return new Uint8Array(Buffer.from(value, 'base64url'));
}

/** A row holds JSON (a `{`) in plaintext, a compact JWE (base64url and dots) when sealed. */
export function isSealed(stored: string): boolean {
  return !stored.startsWith('{');
}

/**
 * Seals a private JWK for its row. The kid goes in the protected header, which AES-GCM
 * authenticates: a sealed key copied into another row does not open there.
 */
export async function sealPrivateJwk(jwk: JWK, kid: string, kek: Uint8Array): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(jwk))).setProtectedHeader({ ...SEAL, kid, cty: 'jwk+json' }).encrypt(kek);
}

/** The private JWK of a row, opened with the KEK when sealed. */
export async function openPrivateJwk(stored: string, kid: string, kek: Uint8Array | undefined): Promise<JWK> {
  if (!isSealed(stored)) return JSON.parse(stored) as JWK;
  if (kek === undefined) {
    throw new KeyEncryptionError(`signing key ${kid} is encrypted: set ${KEK_VARIABLE} to the key-encryption key it was written with`);
  }
  let plaintext: Uint8Array;
  try {
    const opened = await compactDecrypt(stored, kek, { keyManagementAlgorithms: [SEAL.alg], contentEncryptionAlgorithms: [SEAL.enc] });
    if (opened.protectedHeader.kid !== kid) throw new Error('kid mismatch');
    plaintext = opened.plaintext;
  } catch {
    // Never the cause: it could quote key material.
    throw new KeyEncryptionError(`signing key ${kid} does not decrypt with ${KEK_VARIABLE}: it was written with another key-encryption key`);
  }
  return JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
}
