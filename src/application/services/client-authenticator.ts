import { timingSafeEqual } from 'node:crypto';
import { isExpired, isPublicClient, type Client } from '../../domain/client.js';
import { assertionIssuer, CLIENT_ASSERTION_TYPE, MAX_ASSERTION_AGE, verifyClientAssertion } from '../../protocol/client-assertion.js';
import { extractClientCredentials } from '../../protocol/client-credentials.js';
import { InvalidClient } from '../../protocol/errors.js';
import { madeBeforeStart, mustOutliveProcess } from '../../protocol/replay-window.js';
import { sha256 } from '../../protocol/random.js';
import type { ClientKeys } from '../ports/client-keys.js';
import type { ClientRateLimits } from './client-rate-limits.js';
import type { Clock } from '../ports/clock.js';
import type { ReplayCache, ReplayOwner } from '../ports/replay-cache.js';
import type { ClientRepository } from '../ports/repositories.js';

export interface ClientAuthenticatorDeps {
  readonly clients: ClientRepository;
  readonly keys: ClientKeys;
  readonly replay: ReplayCache;
  readonly clock: Clock;
  readonly issuer: string;
  /** The token endpoint URL, which `oidc` clients with the lenient audience may name in aud. */
  readonly tokenEndpoint: string;
  /** Per-client budgets (config rate_limits.per_client); none when rate_limits.enabled is false. */
  readonly rateLimits?: ClientRateLimits | undefined;
}

/**
 * Client authentication at the token, PAR, revocation and introspection endpoints
 * (RFC 6749 §2.3): client_secret_basic, client_secret_post, private_key_jwt (RFC 7523) and
 * none. Secrets are compared as SHA-256 digests in constant time, assertions verified with
 * cached keys: no bcrypt and no key import here, this runs on every token request.
 */
export class ClientAuthenticator {
  constructor(private readonly deps: ClientAuthenticatorDeps) {}

  /** @param endpoint the URL of the endpoint being called (an accepted aud for `oidc` clients) */
  async authenticate(authorization: string | undefined, body: Readonly<Record<string, string | undefined>>, endpoint: string): Promise<Client> {
    const presented = extractClientCredentials(authorization, body);
    const basic = presented.method === 'client_secret_basic';
    let clientId: string | undefined = presented.clientId;
    if (presented.method === 'private_key_jwt') {
      const iss = assertionIssuer(presented.assertion);
      if (iss === undefined) throw new InvalidClient('client_assertion is not a JWT with an iss claim');
      // RFC 7523 §3 (1): iss is the client_id; a client_id beside it must agree.
      if (clientId !== undefined && clientId !== iss) throw new InvalidClient('client_id does not match the client_assertion iss');
      clientId = iss;
    }
    if (clientId === undefined) throw new InvalidClient('client authentication is required (client_id missing)');
    const client = await this.deps.clients.findById(clientId);
    if (client === undefined) {
      throw new InvalidClient('client authentication failed', basic);
    }
    // A client past its expiry date (a service account's) is as good as unknown.
    if (isExpired(client, this.deps.clock.now())) {
      throw new InvalidClient('client authentication failed', basic);
    }
    if (client.tokenEndpointAuthMethod !== presented.method) {
      throw new InvalidClient(`the client must authenticate with ${client.tokenEndpointAuthMethod}`, basic);
    }
    switch (presented.method) {
      case 'client_secret_basic':
      case 'client_secret_post':
        if (!this.secretMatches(client, sha256(presented.secret))) {
          throw new InvalidClient('client authentication failed', basic);
        }
        break;
      case 'private_key_jwt':
        await this.verifyAssertion(client, presented.assertion, presented.assertionType, endpoint);
        break;
      case 'none':
        break;
    }
    // Counted only now that the client proved who it is: a caller who merely names a client_id
    // must not spend that client's budget (src/application/services/client-rate-limits.ts).
    const counted = this.deps.rateLimits?.count(endpoint, client);
    if (counted !== undefined) await counted;
    return client;
  }

  /**
   * The current secret, or within its grace period the one before the last rotation. Both are
   * compared whatever the first gives, in constant time, so the timing tells nothing of which.
   */
  private secretMatches(client: Client, presented: string): boolean {
    const current = client.secretDigest !== undefined && digestsEqual(presented, client.secretDigest);
    const previous = client.previousSecret;
    const inGrace = previous !== undefined && this.deps.clock.now() < previous.expiresAt && digestsEqual(presented, previous.digest);
    return current || inGrace;
  }

  private async verifyAssertion(client: Client, assertion: string, assertionType: string | undefined, endpoint: string): Promise<void> {
    // RFC 7521 §4.2: the assertion type says how to read client_assertion.
    if (assertionType !== CLIENT_ASSERTION_TYPE) {
      throw new InvalidClient(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    }
    const now = this.deps.clock.now();
    const { jti, usableFrom, usableUntil } = await verifyClientAssertion(assertion, this.deps.keys.keysOf(client), {
      clientId: client.clientId,
      profile: client.profile,
      // Rows stored before the setting existed have none: the strict default.
      audience: client.clientAssertionAudience === 'lenient' ? 'lenient' : 'issuer',
      issuer: this.deps.issuer,
      endpointUrls: [this.deps.tokenEndpoint, endpoint],
      now,
    });
    // RFC 7523 §3 (7), FAPI 2.0: single use. An assertion the previous process may have accepted
    // (its anchor at or before the second this one started) cannot be checked: refused; one whose
    // anchor is still in the future is persisted, so the next process refuses its replay
    // (src/protocol/replay-window.ts).
    if (madeBeforeStart(usableFrom, this.deps.replay.remembersSince())) {
      throw new InvalidClient(`client_assertion may have been used before this server started (its iat, or exp minus ${MAX_ASSERTION_AGE} s, is earlier): sign a new one`);
    }
    // Remembered while it can still be accepted (+1: the clock counts whole seconds).
    if (!(await this.deps.replay.firstUse(replayOwner(client), `client_assertion:${client.clientId}:${jti}`, usableUntil + 1, mustOutliveProcess(usableFrom, now) ? usableFrom : undefined))) {
      throw new InvalidClient('client_assertion jti was already used');
    }
  }
}

/** Whose share of the replay cache a client's single-use values count against. */
export function replayOwner(client: Client): ReplayOwner {
  return { clientId: client.clientId, isPublic: isPublicClient(client) };
}

function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'base64url');
  const right = Buffer.from(b, 'base64url');
  return left.length === right.length && timingSafeEqual(left, right);
}
