import type { JWTVerifyGetKey } from 'jose';
import type { Client } from '../../domain/client.js';

/**
 * A client's public keys for private_key_jwt, from its registered `jwks` or `jwks_uri`;
 * imported once and cached, refetched from jwks_uri only on an unknown kid (with a cooldown).
 */
export interface ClientKeys {
  keysOf(client: Client): JWTVerifyGetKey;
}
