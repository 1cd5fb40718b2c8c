/**
 * Single use across restarts (RFC 7523 §3 (7), RFC 9449 §11.1) with a replay cache held in
 * memory. A value (client-assertion or DPoP jti) has an anchor: the earliest second it could be
 * accepted (an assertion's iat, else nbf, else exp − 300; a proof's iat). Values may be accepted
 * with an anchor up to 10 s ahead of the server's clock (clock skew).
 *
 * The rule, with S the whole second at which this process began remembering:
 *  1. refuse a value whose anchor is <= S (`madeBeforeStart`);
 *  2. persist, before answering, every value accepted while its anchor is still in the future
 *     (anchor > now, `mustOutliveProcess`), and load the unexpired ones at the next start.
 * Sound: take a value the previous process accepted at its second A. Then A <= S: the previous
 * process ended no later than this one started, possibly within the same second (SIGKILL and an
 * automatic restart), with a clock that does not run backwards. Either its anchor was <= A, so
 * anchor <= A <= S and rule 1 refuses it; or its anchor was > A, so rule 2 persisted it before
 * the previous process answered, and this process loaded it: a replay is refused as such. An
 * honest client signs with iat = its current second, after S, and is accepted at once (a value
 * signed in the very second of the start is refused: the client signs again); its iat is in the
 * future only when its clock runs ahead of the server's, which is rare, so the write is rare.
 */

/** Rule 1: the previous process may have accepted this value, and its memory is gone. */
export function madeBeforeStart(anchor: number, startSecond: number): boolean {
  return anchor <= startSecond;
}

/** Rule 2: accepted now, this value could be accepted again after a restart unless persisted. */
export function mustOutliveProcess(anchor: number, now: number): boolean {
  return anchor > now;
}
