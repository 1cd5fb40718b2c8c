/**
 * The size of libuv's thread pool, where WebCrypto signs and checks signatures (jose uses
 * WebCrypto only: every access token, client assertion and DPoP proof), and where bcrypt
 * hashes and DNS lookups run. Node's default of 4 threads is more than a small machine has
 * cores: on 2 cores, 4 signing threads take turns with the main thread, which parses every
 * request (README, Performance: 2 threads instead of 4 gave scenario b 8 % more, median of 5
 * alternated pairs). Never fewer than 2: with 1, b gains another third, but a login's bcrypt
 * hash or a slow DNS lookup would hold every signature back, and logins would get half the
 * machine. Never more than Node's own 4.
 * @see https://docs.libuv.org/en/v1.x/threadpool.html
 */
export const MIN_THREADS = 2;
export const MAX_THREADS = 4;

/** The operator's UV_THREADPOOL_SIZE when set, else one thread per core within [2, 4]. */
export function threadPoolSize(configured: string | undefined, cores: number): string {
  if (configured !== undefined && configured.trim() !== '') return configured;
  return String(Math.min(MAX_THREADS, Math.max(MIN_THREADS, cores)));
}
