import type { HttpDeps } from '../deps.js';
import { liveDocument, type ServedDocument } from '../static-documents.js';

/**
 * OpenID Connect Discovery 1.0 §4 and RFC 8414 §3: one document at both well-known paths,
 * serialised again only when a client change (its custom scopes) rebuilt it.
 */
export function discoveryDocuments(deps: HttpDeps): Record<string, ServedDocument> {
  const document = liveDocument(() => deps.discovery());
  return { '/.well-known/openid-configuration': document, '/.well-known/oauth-authorization-server': document };
}
