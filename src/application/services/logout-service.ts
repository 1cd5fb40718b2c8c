import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Client } from '../../domain/client.js';
import { isSessionActive, type Session } from '../../domain/session.js';
import { RESOURCE_SERVER_ONLY_INTROSPECTS } from '../../domain/introspection.js';
import { InvalidRequest, UnauthorizedClient } from '../../protocol/errors.js';
import type { Clock } from '../ports/clock.js';
import type { KeyStore } from '../ports/key-store.js';
import type { LogoutTokenSender } from '../ports/logout-notifier.js';
import type { AuditLog, ClientRepository } from '../ports/repositories.js';
import type { IdTokenHints } from './id-token-hint.js';
import type { SessionService } from './session-service.js';

/** OIDC Back-Channel Logout §2.4: the event a logout token carries. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const LOGOUT_TOKEN_TTL = 120;
/**
 * Expired sessions whose clients one purge run tells (each run every 10 minutes); any beyond are
 * ended without a logout token, so that one run never starts an unbounded burst of requests.
 */
export const EXPIRY_NOTICES_PER_PURGE = 10_000;

/** A validated RP-initiated logout request (OIDC RP-Initiated Logout 1.0 §2). */
export interface LogoutRequest {
  readonly client: Client | undefined;
  /** Set only when it exactly matches one the client registered (§3). */
  readonly postLogoutRedirectUri: string | undefined;
  readonly state: string | undefined;
  readonly uiLocales: string | undefined;
  /** The user id_token_hint names, when one was sent: only that user's session may end (§2–3). */
  readonly hintSubject: string | undefined;
}

export interface LogoutServiceDeps {
  readonly issuer: string;
  readonly clients: ClientRepository;
  readonly keys: KeyStore;
  readonly hints: IdTokenHints;
  readonly sessions: SessionService;
  readonly sender: LogoutTokenSender;
  readonly audit: AuditLog;
  readonly clock: Clock;
}

/** RP-initiated logout and the back-channel logout tokens it sends. */
export class LogoutService {
  constructor(private readonly deps: LogoutServiceDeps) {}

  async validate(params: Readonly<Record<string, string | undefined>>): Promise<LogoutRequest> {
    const { id_token_hint: hint, client_id: clientIdParam, post_logout_redirect_uri: redirect, state, ui_locales: uiLocales } = params;
    let clientId = clientIdParam;
    let hintSubject: string | undefined;
    if (hint !== undefined) {
      const { aud, sub } = await this.deps.hints.verify(hint);
      // §2: when both are sent, client_id must be the ID token's audience.
      if (clientId !== undefined && !aud.includes(clientId)) throw new InvalidRequest('client_id does not match the audience of id_token_hint');
      clientId ??= aud[0];
      hintSubject = sub;
    }
    const client = clientId === undefined ? undefined : await this.deps.clients.findById(clientId);
    if (clientId !== undefined && client === undefined) throw new InvalidRequest('client_id is not a registered client');
    if (client?.resourceServer === true) throw new UnauthorizedClient(RESOURCE_SERVER_ONLY_INTROSPECTS);
    // §3: redirect only to an exactly registered post_logout_redirect_uri, never elsewhere.
    const postLogoutRedirectUri = redirect !== undefined && client?.postLogoutRedirectUris.includes(redirect) ? redirect : undefined;
    return { client, postLogoutRedirectUri, state: state?.slice(0, 2048), uiLocales, hintSubject };
  }

  /**
   * Ends the browser's SSO session (a logout) and tells, in the background, every client it
   * logged in to. Only the call that ended the session tells them: a second end (a double submit,
   * a race) sends nothing.
   */
  async end(cookieValue: string, ip: string, userAgent?: string): Promise<void> {
    const session = await this.deps.sessions.end(cookieValue);
    if (session === undefined) return;
    this.deps.audit.record({ event: 'logout', userId: session.userId, ip, userAgent });
    await this.notify(session, await this.deps.sessions.clientsOf(session.sid));
  }

  /**
   * A login in a browser that already had a session: the old session row ends either way. When the
   * same user logged in again (prompt=login, max_age, the consent page sending them back to log in)
   * it is the same OIDC session: its clients are not told, and the returned sid goes on in the new
   * row (with the clients it logged in to). Another user, or a session past its lifetime, ends it
   * as a logout does, telling its clients (OIDC Back-Channel Logout §2.5).
   * @returns the sid to keep, or undefined for a new OIDC session
   */
  async replace(cookieValue: string, userId: string, ip: string, userAgent?: string): Promise<string | undefined> {
    const session = await this.deps.sessions.end(cookieValue);
    if (session === undefined) return undefined;
    if (session.userId === userId && isSessionActive(session, this.deps.clock.now())) {
      this.deps.audit.record({ event: 'session.renewed', userId, ip, userAgent });
      return session.sid;
    }
    this.deps.audit.record({ event: 'session.replaced', userId: session.userId, ip, userAgent });
    await this.notify(session, await this.deps.sessions.clientsOf(session.sid));
    return undefined;
  }

  /**
   * Ends the sessions that expired without an end (the purge job calls this before deleting
   * them) and tells their clients. A session ended before (logout, replacement) is not told again.
   * At most EXPIRY_NOTICES_PER_PURGE sessions per call; the purge deletes any others untold.
   * @param now the purge's time, the very one it then deletes with
   * @returns how many sessions were ended here (their clients told)
   */
  async endExpired(now: number): Promise<number> {
    const expired = await this.deps.sessions.endExpired(now, EXPIRY_NOTICES_PER_PURGE);
    for (const { session, clientIds } of expired) await this.notify(session, clientIds);
    return expired.length;
  }

  /** OIDC Back-Channel Logout §2.5: a logout token to each client with a backchannel_logout_uri. */
  private async notify(session: Session, clientIds: readonly string[]): Promise<void> {
    for (const clientId of clientIds) {
      const client = await this.deps.clients.findById(clientId);
      if (client?.backchannelLogoutUri === undefined) continue;
      const token = await this.logoutToken(client, session);
      void this.deps.sender.send(client.backchannelLogoutUri, token, client.clientId);
    }
  }

  /** OIDC Back-Channel Logout §2.4: iss, aud, iat, exp, jti, sub, sid, events; typ logout+jwt; no nonce. */
  private async logoutToken(client: Client, session: Session): Promise<string> {
    const key = this.deps.keys.signingKey(client.idTokenSignedResponseAlg);
    const now = this.deps.clock.now();
    return new SignJWT({ sid: session.sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'logout+jwt' })
      .setIssuer(this.deps.issuer)
      .setSubject(session.userId)
      .setAudience(client.clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + LOGOUT_TOKEN_TTL)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }
}
