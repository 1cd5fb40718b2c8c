import { randomUUID } from 'node:crypto';
import type { AuthorizationRequest, Interaction } from '../../domain/authorization-request.js';
import type { Client } from '../../domain/client.js';
import type { LockoutReason } from '../../domain/lockout.js';
import type { Session } from '../../domain/session.js';
import { PASSWORD_MAX_BYTES, USERNAME_MAX_LENGTH, type User } from '../../domain/user.js';
import { AccessDenied, InvalidRequest, OAuthError, TemporarilyUnavailable } from '../../protocol/errors.js';
import { randomToken, sha256 } from '../../protocol/random.js';
import { buildRedirect } from '../../protocol/redirect-uri.js';
import type { Clock } from '../ports/clock.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { AccountLockout } from '../services/account-lockout.js';
import type {
  AuditLog,
  AuthorizationCodeRepository,
  ClientRepository,
  ConsentRepository,
  InteractionRepository,
  SessionRepository,
  UserRepository,
} from '../ports/repositories.js';
import { AuthorizationPageError, AuthorizationRedirectError } from './authorization-errors.js';
import { callerKey } from './caller-key.js';
import { nextStep } from './next-step.js';
import type { PushedRequests } from './pushed-requests.js';
import { StandInHash } from './stand-in-hash.js';

export type AuthorizationOutcome =
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'interaction'; readonly interaction: Interaction }
  | { readonly kind: 'login'; readonly interaction: Interaction; readonly client: Client }
  | { readonly kind: 'consent'; readonly interaction: Interaction; readonly client: Client };

/** login.failure's details.reason (docs/audit.md). */
export type LoginFailureReason = 'bad_password' | 'unknown_user' | LockoutReason;

export type LoginResult =
  | { readonly kind: 'signed_in'; readonly user: User; readonly interaction: Interaction }
  /** A wrong password, or an unknown username: the same answer. */
  | { readonly kind: 'wrong' }
  /** Too many failed logins in a row: not checked; `retryAfter` in whole seconds. */
  | { readonly kind: 'refused'; readonly reason: LockoutReason; readonly retryAfter: number };

export interface AuthorizationServiceOptions {
  readonly issuer: string;
  readonly codeTtl: number;
  readonly interactionTtl: number;
  /** Live interactions kept at most, for everyone and for one client (container.ts BOUNDS). */
  readonly maxPendingInteractions: number;
  readonly maxPendingInteractionsPerClient: number;
}

/** Expired interactions deleted with each new one, so the table does not wait for the purge. */
const EXPIRED_DELETED_PER_INTERACTION = 16;

export interface AuthorizationServiceDeps {
  readonly clients: ClientRepository;
  readonly users: UserRepository;
  readonly interactions: InteractionRepository;
  readonly consents: ConsentRepository;
  readonly codes: AuthorizationCodeRepository;
  readonly passwords: PasswordHasher;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly pushed: PushedRequests;
  readonly sessions: Pick<SessionRepository, 'addClient'>;
  readonly lockout: Pick<AccountLockout, 'begin' | 'beginUnknown' | 'failed' | 'succeeded' | 'abandoned'>;
}

/**
 * The authorization code flow between the browser and the code: decide whether to log in,
 * ask for consent or issue the code, and issue it (RFC 6749 §4.1, OIDC Core §3.1.2).
 */
export class AuthorizationService {
  /** Compared against when the username is unknown, so timing does not reveal which usernames exist. */
  private readonly standInHash: StandInHash;

  constructor(
    private readonly deps: AuthorizationServiceDeps,
    private readonly options: AuthorizationServiceOptions,
  ) {
    this.standInHash = new StandInHash(deps.passwords);
  }

  /** Right after /auth validated the request. */
  async start(request: AuthorizationRequest, session: Session | undefined): Promise<AuthorizationOutcome> {
    const client = await this.client(request.clientId);
    const step = await this.decide(request, client, session, undefined);
    if (step.step === 'issue') return this.issue(request, step.userId, step.authTime, session);
    // Only a validated request reaches here, and only one that needs the user (prompt=none
    // errors were thrown above): the interaction is the one row an unauthenticated caller makes.
    const now = this.deps.clock.now();
    await this.deps.interactions.deleteExpired(now, EXPIRED_DELETED_PER_INTERACTION);
    const pending = await this.deps.interactions.countPending(client.clientId, now);
    // At a bound, the oldest anonymous interaction (no user yet: anyone can make one, since /auth
    // authenticates no client and client_id and redirect_uri are public) makes room, so a flood of
    // them never locks the client's users out. Only interactions with a signed-in user, which no
    // unauthenticated caller can make, lead to RFC 6749 §4.1.2.1 temporarily_unavailable, shown
    // on a page: nothing is kept, a pushed request_uri is not spent, and the browser may retry.
    if (pending.client >= this.options.maxPendingInteractionsPerClient) {
      if (!(await this.deps.interactions.deleteOldestAnonymous(now, client.clientId))) {
        throw new TemporarilyUnavailable('too many sign-ins under way for this client; retry shortly');
      }
    } else if (pending.total >= this.options.maxPendingInteractions && !(await this.deps.interactions.deleteOldestAnonymous(now))) {
      throw new TemporarilyUnavailable('too many sign-ins under way; retry shortly');
    }
    const interaction: Interaction = {
      id: randomToken(),
      request,
      csrfToken: randomToken(),
      userId: undefined,
      authTime: undefined,
      expiresAt: now + this.options.interactionTtl,
    };
    await this.deps.interactions.create(interaction);
    return { kind: 'interaction', interaction };
  }

  /** The interaction page: what to show, or the final redirect. */
  async resume(interaction: Interaction, session: Session | undefined): Promise<AuthorizationOutcome> {
    const client = await this.client(interaction.request.clientId);
    const auth = interaction.userId !== undefined && interaction.authTime !== undefined ? { userId: interaction.userId, authTime: interaction.authTime } : undefined;
    const step = await this.decide(interaction.request, client, session, auth, interaction);
    if (step.step === 'login') return { kind: 'login', interaction, client };
    if (step.step === 'consent') {
      if (auth === undefined) {
        // Bind the interaction to the session's user now, so the consent page's POST acts for them.
        await this.deps.interactions.setAuthenticated(interaction.id, step.userId, step.authTime);
        interaction = { ...interaction, userId: step.userId, authTime: step.authTime };
      }
      return { kind: 'consent', interaction, client };
    }
    await this.deps.interactions.delete(interaction.id);
    return this.issue(interaction.request, step.userId, step.authTime, session);
  }

  /**
   * Checks a username and password (the caller re-renders the form unless signed in). On
   * success, the interaction now acts for the user. Failed logins in a row slow down, then lock,
   * further logins with that username (docs/lockout.md): an attempt during a wait or a lock is
   * refused before its password is checked, so it costs no hash, and is not another failure. A
   * username that names no user goes through the same steps (its count kept in memory, never
   * stored) and the same hash (a stand-in), so no answer, status or timing tells it from a real one.
   */
  async login(interaction: Interaction, username: string, password: string, ip: string, userAgent?: string): Promise<LoginResult> {
    const clientId = interaction.request.clientId;
    const user = username.length <= USERNAME_MAX_LENGTH ? await this.deps.users.findByUsername(username) : undefined;
    const failure = (reason: LoginFailureReason, extra: Record<string, unknown> = {}) =>
      this.deps.audit.record({ event: 'login.failure', clientId, userId: user?.id, ip, userAgent, details: { username: username.slice(0, 128), reason, ...extra } });
    const gate = user === undefined ? await this.deps.lockout.beginUnknown(username) : await this.deps.lockout.begin(user.id);
    if (!gate.allowed) {
      failure(gate.reason, { retry_after: gate.retryAfter });
      return { kind: 'refused', reason: gate.reason, retryAfter: gate.retryAfter };
    }
    // A password longer than any that can be stored is wrong, whatever its first 72 bytes: bcrypt
    // would compare those alone. It still costs a hash, as a wrong password does.
    const acceptable = Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES;
    let ok: boolean;
    try {
      const hash = user?.passwordHash ?? (await this.standInHash.get());
      // One caller (an IPv4 address, an IPv6 /64) may hold only its share of the hashing queue.
      ok = (await this.deps.passwords.verify(password, hash, callerKey(ip))) && acceptable && user !== undefined;
    } catch (error) {
      // Not checked (the hashing queue was full): the attempt does not count.
      await this.deps.lockout.abandoned(gate.attempt);
      throw error;
    }
    // ok implies a user: that check only tells the type checker.
    if (!ok || user === undefined) {
      // `locked` only for an existing user: a made-up name's lock is seen in login.failure alone.
      const { locked } = await this.deps.lockout.failed(gate.attempt);
      if (locked !== undefined) {
        const details = { failures: locked.failures, until: new Date(locked.until).toISOString(), lock: locked.lock };
        this.deps.audit.record({ event: 'user.locked', clientId, userId: user?.id, ip, userAgent, details });
      }
      failure(user === undefined ? 'unknown_user' : 'bad_password');
      return { kind: 'wrong' };
    }
    await this.deps.lockout.succeeded(gate.attempt);
    const authTime = this.deps.clock.now();
    await this.deps.interactions.setAuthenticated(interaction.id, user.id, authTime);
    this.deps.audit.record({ event: 'login.success', clientId, userId: user.id, ip, userAgent });
    return { kind: 'signed_in', user, interaction: { ...interaction, userId: user.id, authTime } };
  }

  /** The consent page's decision. */
  async consent(interaction: Interaction, decision: string, ip: string, session: Session | undefined, userAgent?: string): Promise<AuthorizationOutcome> {
    const { request } = interaction;
    if (interaction.userId === undefined || interaction.authTime === undefined) {
      throw new AuthorizationPageError(new InvalidRequest('log in before consenting'));
    }
    if (decision === 'approve') {
      // OIDC Core §3.1.2.1 max_age: the decision is made again now, with the interaction's
      // auth_time: an authentication that aged past max_age on the consent page means a new login.
      const client = await this.client(request.clientId);
      const auth = { userId: interaction.userId, authTime: interaction.authTime };
      const step = await this.decide(request, client, session, auth, interaction);
      if (step.step === 'login') return { kind: 'login', interaction, client };
    }
    await this.deps.interactions.delete(interaction.id);
    if (decision !== 'approve') {
      await this.deps.pushed.complete(request);
      this.deps.audit.record({ event: 'consent.denied', clientId: request.clientId, userId: interaction.userId, ip, userAgent });
      throw new AuthorizationRedirectError(new AccessDenied('the user denied the request'), request.redirectUri, request.state);
    }
    await this.deps.consents.grant(interaction.userId, request.clientId, request.scopes, this.deps.clock.now());
    this.deps.audit.record({ event: 'consent.granted', clientId: request.clientId, userId: interaction.userId, ip, userAgent, details: { scope: request.scopes.join(' ') } });
    return this.issue(request, interaction.userId, interaction.authTime, session);
  }

  /** RFC 6749 §4.1.2: the code goes back with state and, per RFC 9207, iss. */
  private async issue(request: AuthorizationRequest, userId: string, authTime: number, session: Session | undefined): Promise<AuthorizationOutcome> {
    await this.deps.pushed.complete(request);
    // OIDC Back-Channel Logout §2.4: the sid of the session, and which clients it logged in to.
    const sid = session !== undefined && session.userId === userId ? session.sid : undefined;
    if (sid !== undefined) await this.deps.sessions.addClient(sid, request.clientId);
    const code = randomToken();
    const now = this.deps.clock.now();
    await this.deps.codes.save({
      codeDigest: sha256(code),
      grantId: randomUUID(),
      clientId: request.clientId,
      userId,
      redirectUri: request.redirectUri,
      scopes: request.scopes,
      codeChallenge: request.codeChallenge,
      nonce: request.nonce,
      dpopJkt: request.dpopJkt,
      sid,
      authTime,
      issuedAt: now,
      expiresAt: now + this.options.codeTtl,
      consumedAt: undefined,
    });
    const location = buildRedirect(request.redirectUri, { code, state: request.state, iss: this.options.issuer });
    return { kind: 'redirect', location };
  }

  private async decide(
    request: AuthorizationRequest,
    client: Client,
    session: Session | undefined,
    interactionAuth: { userId: string; authTime: number } | undefined,
    interaction?: Interaction,
  ) {
    const userId = interactionAuth?.userId ?? session?.userId;
    const grantedScopes = userId ? await this.deps.consents.findGranted(userId, client.clientId) : [];
    try {
      return nextStep({ request, client, session, interactionAuth, grantedScopes, now: this.deps.clock.now() });
    } catch (error) {
      if (interaction) await this.deps.interactions.delete(interaction.id);
      await this.deps.pushed.complete(request);
      if (error instanceof OAuthError) throw new AuthorizationRedirectError(error, request.redirectUri, request.state);
      throw error;
    }
  }

  /** The client an interaction is for (the login page shows its name). */
  clientOf(interaction: Interaction): Promise<Client> {
    return this.client(interaction.request.clientId);
  }

  private async client(clientId: string): Promise<Client> {
    const client = await this.deps.clients.findById(clientId);
    if (client === undefined) throw new AuthorizationPageError(new InvalidRequest('client_id is not a registered client'));
    return client;
  }
}
