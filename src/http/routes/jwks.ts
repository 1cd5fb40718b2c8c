import { PATHS } from '../../application/services/discovery.js';
import type { HttpDeps } from '../deps.js';
import { liveDocument, type ServedDocument } from '../static-documents.js';

/**
 * RFC 7517 §5: the public signing keys, each with kid, alg and use. The key store returns the
 * same set until a key is prepublished or removed (docs/keys.md): only then is it serialised again.
 */
export function jwksDocuments(deps: HttpDeps): Record<string, ServedDocument> {
  return { [PATHS.jwks]: liveDocument(() => deps.keys.jwks()) };
}
