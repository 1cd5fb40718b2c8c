import { MAX_QUOTED_URI_LENGTH, quoteInput } from './error-description.js';
import { InvalidTarget } from './errors.js';

const MAX_RESOURCES = 10;

/**
 * RFC 8707 §2: each `resource` is an absolute URI without a fragment, and must be one the
 * client may ask for (§2.2: otherwise invalid_target). Returns the audience to put in `aud`.
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 */
export function assertResources(requested: readonly string[], allowed: readonly string[]): string[] {
  if (requested.length > MAX_RESOURCES) throw new InvalidTarget(`at most ${MAX_RESOURCES} resource parameters are accepted`);
  for (const resource of requested) {
    if (!isAbsoluteWithoutFragment(resource)) throw new InvalidTarget('resource must be an absolute URI without a fragment');
    if (!allowed.includes(resource)) throw new InvalidTarget(`resource is not allowed for this client: ${quoteInput(resource, MAX_QUOTED_URI_LENGTH)}`);
  }
  return [...new Set(requested)];
}

function isAbsoluteWithoutFragment(value: string): boolean {
  if (value.includes('#')) return false;
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}
