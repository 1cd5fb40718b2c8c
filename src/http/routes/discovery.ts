import type { HttpDeps } from '../deps.js';
import { staticDocument, type StaticDocument } from '../static-documents.js';

/** OpenID Connect Discovery 1.0 §4 and RFC 8414 §3: one document, serialised once, at both well-known paths. */
export function discoveryDocuments(deps: HttpDeps): Record<string, StaticDocument> {
  const document = staticDocument(deps.discovery);
  return { '/.well-known/openid-configuration': document, '/.well-known/oauth-authorization-server': document };
}
