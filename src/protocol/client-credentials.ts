import { InvalidClient, InvalidRequest } from './errors.js';

/** What the client presented at the token endpoint, before we look it up. */
export type PresentedCredentials =
  | { method: 'client_secret_basic'; clientId: string; secret: string }
  | { method: 'client_secret_post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; clientId: string | undefined; assertion: string; assertionType: string | undefined }
  | { method: 'none'; clientId: string };

const MAX_CREDENTIAL_LENGTH = 1024;

/**
 * Reads the client's credentials from the Authorization header and the form body.
 * RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
 */
export function extractClientCredentials(
  authorization: string | undefined,
  body: Readonly<Record<string, string | undefined>>,
): PresentedCredentials {
  const basicToken = basicCredentials(authorization);
  const basic = basicToken === undefined ? undefined : parseBasic(basicToken);
  const bodyId = body.client_id;
  const used = [basic !== undefined, body.client_secret !== undefined, body.client_assertion !== undefined].filter(Boolean).length;
  if (used > 1) {
    throw new InvalidRequest('more than one client authentication method was used');
  }
  if (basic) {
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new InvalidRequest('client_id in the body does not match the Authorization header');
    }
    return { method: 'client_secret_basic', ...basic };
  }
  if (body.client_assertion !== undefined) {
    return { method: 'private_key_jwt', clientId: bodyId, assertion: body.client_assertion, assertionType: body.client_assertion_type };
  }
  if (bodyId === undefined) {
    throw new InvalidClient('client authentication is required (client_id missing)');
  }
  if (body.client_secret !== undefined) {
    return { method: 'client_secret_post', clientId: bodyId, secret: body.client_secret };
  }
  return { method: 'none', clientId: bodyId };
}

/**
 * The client_id a request names, for records of it (traces): the user name of well-formed HTTP
 * Basic credentials, read by the same rules as extractClientCredentials (RFC 6749 §2.3.1), else
 * the client_id parameter. Unverified (the request may fail), and never throws: a request that
 * extractClientCredentials refuses still names whom it claimed to be, or nobody.
 */
export function claimedClientId(authorization: string | undefined, clientIdParameter: unknown): string | undefined {
  const basicToken = basicCredentials(authorization);
  if (basicToken !== undefined) {
    try {
      return parseBasic(basicToken).clientId;
    } catch {
      // Malformed Basic credentials: the parameter may still name the client.
    }
  }
  return typeof clientIdParameter === 'string' && clientIdParameter !== '' ? clientIdParameter : undefined;
}

/**
 * What follows the Basic scheme (case-insensitive, RFC 9110 §11.1), or undefined for another
 * scheme. A bare "Basic" gives '': a malformed attempt (answered with a Basic challenge), not an
 * absent one.
 */
function basicCredentials(authorization: string | undefined): string | undefined {
  return authorization !== undefined && /^basic(\s|$)/i.test(authorization) ? authorization.slice(5).trim() : undefined;
}

/**
 * RFC 6749 §2.3.1 / RFC 7617: base64(urlencode(client_id) ":" urlencode(client_secret)),
 * each part form-urlencoded before encoding.
 */
function parseBasic(token: string): { clientId: string; secret: string } {
  const fail = () => new InvalidClient('malformed HTTP Basic credentials', true);
  if (token.length === 0 || token.length > MAX_CREDENTIAL_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) throw fail();
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) throw fail();
  try {
    const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    if (secret.length === 0) throw fail();
    return { clientId, secret };
  } catch {
    throw fail();
  }
}
