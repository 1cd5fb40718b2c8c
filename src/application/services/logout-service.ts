import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import type { Client } from '../../domain/client.js';
import type { Session } from '../../domain/session.js';
import { InvalidRequest } from '../../protocol/errors.js';
import type { Clock } from '../ports/clock.js';
import type { KeyStore } from '../ports/key-store.js';
import type { LogoutTokenSender } from '../ports/logout-notifier.js';
import type { AuditLog, ClientRepository } from '../ports/repositories.js';
import type { SessionService } from './session-service.js';

/** OIDC Back-Channel Logout §2.4: the event a logout token carries. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const LOGOUT_TOKEN_TTL = 120;
const MAX_HINT_LENGTH = 8192;

/** A validated RP-initiated logout request (OIDC RP-Initiated Logout 1.0 §2). */
export interface LogoutRequest {
  readonly client: Client | undefined;
  /** Set only when it exactly matches one the client registered (§3). */
  readonly postLogoutRedirectUri: string | undefined;
  readonly state: string | undefined;
  readonly uiLocales: string | undefined;
}

export interface LogoutServiceDeps {
  readonly issuer: string;
  readonly clients: ClientRepository;
  readonly keys: KeyStore;
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
    if (hint !== undefined) {
      const audience = await this.hintAudience(hint);
      // §2: when both are sent, client_id must be the ID token's audience.
      if (clientId !== undefined && !audience.includes(clientId)) throw new InvalidRequest('client_id does not match the audience of id_token_hint');
      clientId ??= audience[0];
    }
    const client = clientId === undefined ? undefined : await this.deps.clients.findById(clientId);
    if (clientId !== undefined && client === undefined) throw new InvalidRequest('client_id is not a registered client');
    // §3: redirect only to an exactly registered post_logout_redirect_uri, never elsewhere.
    const postLogoutRedirectUri = redirect !== undefined && client?.postLogoutRedirectUris.includes(redirect) ? redirect : undefined;
    return { client, postLogoutRedirectUri, state: state?.slice(0, 2048), uiLocales };
  }

  /** Ends the SSO session and notifies, in the background, every client it logged in to. */
  async logout(cookieValue: string, session: Session, ip: string): Promise<void> {
    await this.deps.sessions.end(cookieValue);
    this.deps.audit.record({ event: 'logout', userId: session.userId, ip });
    const clientIds = await this.deps.sessions.clientsOf(session.sid);
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

  /** §2: id_token_hint is an ID token this server issued; an expired one is still a good hint. */
  private async hintAudience(hint: string): Promise<string[]> {
    const invalid = () => new InvalidRequest('id_token_hint is not an ID token issued by this server');
    if (hint.length > MAX_HINT_LENGTH) throw invalid();
    let header;
    try {
      header = decodeProtectedHeader(hint);
    } catch {
      throw invalid();
    }
    const key = header.kid === undefined ? undefined : this.deps.keys.verificationKey(header.kid);
    // Only ID tokens (typ JWT): not access tokens (at+jwt), not logout tokens (logout+jwt).
    if (key === undefined || header.typ?.toUpperCase() !== 'JWT') throw invalid();
    try {
      const { payload } = await jwtVerify(hint, key.key, {
        issuer: this.deps.issuer,
        algorithms: [key.alg],
        // Expiry is tolerated (RP-Initiated Logout §2): the hint names the session, it grants nothing.
        currentDate: new Date(0),
        requiredClaims: ['aud', 'sub'],
      });
      return Array.isArray(payload.aud) ? payload.aud : [payload.aud!];
    } catch {
      throw invalid();
    }
  }
}
