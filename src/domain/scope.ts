/**
 * Scope rules. RFC 6749 §3.3: space-delimited, case-sensitive scope-tokens of
 * %x21 / %x23-5B / %x5D-7E; order does not matter.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.3
 */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** OIDC Core §5.4: the claims each standard scope releases. */
export const CLAIMS_BY_SCOPE: Readonly<Record<string, readonly string[]>> = {
  profile: [
    'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username',
    'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

export const STANDARD_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'] as const;

/** Splits a scope parameter; returns undefined when a token is malformed. */
export function parseScope(scope: string): string[] | undefined {
  const tokens = scope.split(' ').filter((t) => t.length > 0);
  if (!tokens.every((t) => SCOPE_TOKEN.test(t))) return undefined;
  return [...new Set(tokens)];
}

export function formatScope(scopes: Iterable<string>): string {
  return [...scopes].join(' ');
}

/** The requested scopes the client is not allowed to ask for. */
export function scopesOutside(requested: readonly string[], allowed: readonly string[]): string[] {
  const allowedSet = new Set(allowed);
  return requested.filter((s) => !allowedSet.has(s));
}

/** The user claims a set of scopes releases (OIDC Core §5.4); `sub` is always released. */
export function claimsForScopes(
  scopes: readonly string[],
  claims: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const released: Record<string, unknown> = {};
  for (const scope of scopes) {
    for (const name of CLAIMS_BY_SCOPE[scope] ?? []) {
      if (claims[name] !== undefined) released[name] = claims[name];
    }
  }
  return released;
}
