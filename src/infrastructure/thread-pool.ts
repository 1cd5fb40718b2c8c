/**
 * The size of libuv's thread pool, where WebCrypto signs and checks signatures (jose uses
 * WebCrypto only: every access token, client assertion and DPoP proof), and where bcrypt,
 * DNS lookups and asynchronous file writes wait. Node's default of 4 threads is more than a
 * small machine has cores: on 2 cores, the main thread and 4 signing threads take turns and
 * the main thread, which parses every request, waits (README, Performance: +20 % in scenario
 * b with 2 threads). Never fewer than 2, so that a bcrypt hash, a slow DNS lookup or a full
 * stdout pipe on one thread does not stop every signature; never more than Node's own 4.
 * @see https://docs.libuv.org/en/v1.x/threadpool.html
 */
export const MIN_THREADS = 2;
export const MAX_THREADS = 4;

/** The operator's UV_THREADPOOL_SIZE when set, else one thread per core within [2, 4]. */
export function threadPoolSize(configured: string | undefined, cores: number): string {
  if (configured !== undefined && configured.trim() !== '') return configured;
  return String(Math.min(MAX_THREADS, Math.max(MIN_THREADS, cores)));
}
