import { PATHS } from '../../application/services/discovery.js';
import type { HttpDeps } from '../deps.js';
import { staticDocument, type StaticDocument } from '../static-documents.js';

/** RFC 7517 §5: the public signing keys, each with kid, alg and use. */
export function jwksDocuments(deps: HttpDeps): Record<string, StaticDocument> {
  return { [PATHS.jwks]: staticDocument(deps.keys.jwks()) };
}
