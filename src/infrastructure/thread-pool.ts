/**
 * The size of libuv's thread pool, where WebCrypto signs and checks signatures (jose uses
 * WebCrypto only: every access token, client assertion and DPoP proof), and where bcrypt
 * hashes and DNS lookups run. Node's default of 4 threads is more than a small machine has
 * cores: on 2 cores, 4 signing threads take turns with the main thread, which parses every
 * request (README, Performance: 2 threads instead of 4 gave scenario b 8 % more, median of 5
 * alternated pairs). Never fewer than 2: with 1, b gains up to a quarter more in a fast round
 * (nothing in a slow one), but every login's bcrypt hash and every slow DNS lookup would hold
 * all signatures back. Never more than Node's own 4.
 * @see https://docs.libuv.org/en/v1.x/threadpool.html
 */
export const MIN_THREADS = 2;
export const MAX_THREADS = 4;

/** The operator's UV_THREADPOOL_SIZE when set, else one thread per core within [2, 4]. */
export function threadPoolSize(configured: string | undefined, cores: number): string {
  if (configured !== undefined && configured.trim() !== '') return configured;
  return String(Math.min(MAX_THREADS, Math.max(MIN_THREADS, cores)));
}

/** libuv's own size, when neither the launcher nor the operator set one (tests, `node dist/trusty.mjs`). */
const LIBUV_DEFAULT_THREADS = 4;
/** libuv's bounds on UV_THREADPOOL_SIZE. */
const LIBUV_MAX_THREADS = 1024;

/**
 * The pool's size as libuv reads it (C's atoi, unsigned): unset, 4; not a number or 0, 1;
 * negative, or above 1024, 1024.
 */
export function poolSize(configured: string | undefined): number {
  if (configured === undefined) return LIBUV_DEFAULT_THREADS;
  const size = Number.parseInt(configured, 10);
  if (Number.isNaN(size) || size === 0) return 1;
  return size < 0 ? LIBUV_MAX_THREADS : Math.min(LIBUV_MAX_THREADS, size);
}

/**
 * How many bcrypt hashes may run at once: every pool thread but one, which stays free for
 * signatures, so a burst of logins never holds the token endpoint back. On 2 cores, with
 * tokens asked at 1 000/s, two looping logins at cost 12 took both threads: tokens fell to
 * 490/s, p99 from 17 to 216 ms (four logins: 170/s, 352 ms). With one hashing thread, tokens
 * held 1 000/s at p99 27 ms (four: 30 ms), and logins went from 6.8 to 4.5 a second. A pool
 * of one thread (an operator's choice) is shared.
 */
export function passwordHashingThreads(poolThreads: number): number {
  return Math.max(1, poolThreads - 1);
}
