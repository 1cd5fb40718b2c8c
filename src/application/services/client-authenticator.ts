import { timingSafeEqual } from 'node:crypto';
import type { Client } from '../../domain/client.js';
import { extractClientCredentials } from '../../protocol/client-credentials.js';
import { InvalidClient } from '../../protocol/errors.js';
import { sha256 } from '../../protocol/random.js';
import type { ClientRepository } from '../ports/repositories.js';

/**
 * Client authentication at the token endpoint (RFC 6749 §2.3): client_secret_basic,
 * client_secret_post and none. Secrets are compared as SHA-256 digests in constant time;
 * no bcrypt here, this runs on every token request.
 */
export class ClientAuthenticator {
  constructor(private readonly clients: ClientRepository) {}

  async authenticate(authorization: string | undefined, body: Readonly<Record<string, string | undefined>>): Promise<Client> {
    const presented = extractClientCredentials(authorization, body);
    const basic = presented.method === 'client_secret_basic';
    if (presented.method === 'private_key_jwt') {
      throw new InvalidClient('private_key_jwt client authentication is not supported by this server yet');
    }
    const client = await this.clients.findById(presented.clientId);
    if (client === undefined) {
      throw new InvalidClient('client authentication failed', basic);
    }
    if (client.tokenEndpointAuthMethod !== presented.method) {
      throw new InvalidClient(`the client must authenticate with ${client.tokenEndpointAuthMethod}`, basic);
    }
    if (presented.method === 'client_secret_basic' || presented.method === 'client_secret_post') {
      if (client.secretDigest === undefined || !digestsEqual(sha256(presented.secret), client.secretDigest)) {
        throw new InvalidClient('client authentication failed', basic);
      }
    }
    return client;
  }
}

function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'base64url');
  const right = Buffer.from(b, 'base64url');
  return left.length === right.length && timingSafeEqual(left, right);
}
