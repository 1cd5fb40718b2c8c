/**
 * Redirect URI rules.
 * RFC 6749 §3.1.2 / OAuth 2.0 Security BCP (RFC 9700) §4.1.3: exact string match against
 * the registered value, no pattern, no normalisation.
 */
export function isRegisteredRedirectUri(candidate: string, registered: readonly string[]): boolean {
  return registered.includes(candidate);
}

/** RFC 8252 §7.3 / §8.3: loopback interface literals (and localhost, which we accept too). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]' || hostname === '::1' || hostname === 'localhost';
}

/**
 * Builds the authorization response URL: the parameters are appended to the query
 * (response_mode=query), and the query the registered URI already has is kept as it is,
 * byte for byte (RFC 6749 §3.1.2: it MUST be retained).
 */
export function buildRedirect(redirectUri: string, params: Readonly<Record<string, string | undefined>>): string {
  const url = new URL(redirectUri);
  const defined = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const extra = new URLSearchParams(defined).toString();
  if (extra !== '') url.search = url.search.length > 1 ? `${url.search.slice(1)}&${extra}` : extra;
  return url.toString();
}
