/**
 * Single use across restarts (RFC 7523 §3 (7), RFC 9449 §11.1) with a replay cache held in
 * memory. A value (client-assertion or DPoP jti) has an anchor: the earliest second it could be
 * accepted (an assertion's iat, else nbf, else exp − 300; a proof's iat). Values may be accepted
 * with an anchor up to 10 s ahead of the server's clock (clock skew).
 *
 * The rule, with S the whole second at which this process began remembering:
 *  1. refuse a value whose anchor is <= S (`madeBeforeStart`);
 *  2. before answering a value accepted while its anchor is still in the future (anchor > now,
 *     `mustOutliveProcess`), persist a watermark >= that anchor; the next process takes S as the
 *     later of its start second and the watermark.
 * Sound: take a value the previous process accepted at its second A. Then A <= start second: the
 * previous process ended no later than this one started, possibly within the same second (SIGKILL
 * and an automatic restart), with a clock that does not run backwards. Either its anchor was
 * <= A, so anchor <= A <= S; or it was > A, so rule 2 wrote a watermark >= anchor before the
 * previous process answered, and anchor <= watermark <= S. Rule 1 refuses it either way. An
 * honest client signs with iat = its current second, after S, and is accepted at once (a value
 * signed in the very second of the start is refused: the client signs again). Only after a value
 * with an iat ahead of the clock (at most 10 s: the skew allowed) does S lie ahead of the start,
 * for those seconds. The watermark is written only when an anchor passes it: at most once a
 * second. It assumes the previous process stopped before this one started (stop, then start:
 * two processes serving from one memory cache each would not see each other's values).
 */

/** Rule 1: the previous process may have accepted this value, and its memory is gone. */
export function madeBeforeStart(anchor: number, startSecond: number): boolean {
  return anchor <= startSecond;
}

/** Rule 2: accepted now, this value could be accepted again after a restart unless persisted. */
export function mustOutliveProcess(anchor: number, now: number): boolean {
  return anchor > now;
}
