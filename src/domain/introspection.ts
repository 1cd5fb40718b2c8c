import type { Client } from './client.js';

/**
 * A resource_server client exists to ask the introspection endpoint (RFC 7662 §2.1) and may
 * call nothing else: /token, /par, /revoke and /auth refuse it with unauthorized_client.
 */
export const RESOURCE_SERVER_ONLY_INTROSPECTS = 'a resource_server client may only use the introspection endpoint';

/**
 * RFC 7662 §4: the authorization server MUST determine whether the token may be used at the
 * resource server asking about it. A caller may see an access token when
 * - it is the client the token was issued to (client_id), or
 * - its client_id is one of the token's audiences (aud), or
 * - it is a resource_server registered for one of the token's audiences (introspectionAudiences).
 * Everyone else is told the token is inactive (§2.2 allows it). A few string compares: the
 * introspection endpoint is on the hot path.
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-4
 */
export function mayIntrospectAccessToken(caller: Client, token: { readonly clientId: string; readonly aud: unknown }): boolean {
  if (caller.clientId === token.clientId) return true;
  const { aud } = token;
  if (typeof aud === 'string') return isAudienceOf(caller, aud);
  if (Array.isArray(aud)) {
    for (const audience of aud) if (typeof audience === 'string' && isAudienceOf(caller, audience)) return true;
  }
  return false;
}

function isAudienceOf(caller: Client, audience: string): boolean {
  return audience === caller.clientId || (caller.resourceServer && caller.introspectionAudiences.includes(audience));
}
