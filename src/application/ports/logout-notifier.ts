/** Delivers a logout token to a client's backchannel_logout_uri (OIDC Back-Channel Logout §2.5). */
export interface LogoutTokenSender {
  /** Never throws and never blocks the caller for long: retries and failures are its own. */
  send(uri: string, logoutToken: string, clientId: string): Promise<void>;
}
