import type { CookieSerializeOptions } from '@fastify/cookie';

export const SESSION_COOKIE = 'trusty_session';
export const INTERACTION_COOKIE = 'trusty_interaction';

/**
 * SSO session cookie: HttpOnly, SameSite=Lax (sent on the top-level navigation back from a
 * relying party), Secure whenever the issuer is https.
 */
export function sessionCookieOptions(secure: boolean, maxAge: number): CookieSerializeOptions {
  return { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge };
}

/** Binds an interaction to the browser that started it (login CSRF defence). */
export function interactionCookieOptions(secure: boolean, maxAge: number): CookieSerializeOptions {
  return { httpOnly: true, sameSite: 'lax', secure, path: '/interaction', maxAge };
}
