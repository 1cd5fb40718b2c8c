import { describe, expect, it } from 'vitest';
import { manualClock } from '../../test/unit/fixtures.js';
import { HmacDpopNonces } from './dpop-nonces.js';

/** RFC 9449 §8 and §9: server-provided nonces, rotating every period, with a hand-moved clock. */

const PERIOD = 120;
/** The start of a period (period number 10). */
const START = 1200;

const secret = (fill: number) => Buffer.alloc(32, fill);

describe('HmacDpopNonces', () => {
  it('hands out the same base64url nonce for the whole period', () => {
    const c = manualClock(START);
    const nonces = new HmacDpopNonces(c.fn, PERIOD, secret(1));
    const nonce = nonces.current();
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    c.now = START + PERIOD - 1;
    expect(nonces.current()).toBe(nonce);
    expect(nonces.isValid(nonce)).toBe(true);
  });

  it('rotates at the next period, and still accepts the previous period’s nonce', () => {
    const c = manualClock(START);
    const nonces = new HmacDpopNonces(c.fn, PERIOD, secret(1));
    const first = nonces.current();
    c.now = START + PERIOD;
    const second = nonces.current();
    expect(second).not.toBe(first);
    expect(nonces.isValid(second)).toBe(true);
    expect(nonces.isValid(first)).toBe(true);
    c.now = START + 2 * PERIOD - 1;
    expect(nonces.isValid(first)).toBe(true);
  });

  it('refuses a nonce from two periods back', () => {
    const c = manualClock(START);
    const nonces = new HmacDpopNonces(c.fn, PERIOD, secret(1));
    const first = nonces.current();
    c.now = START + 2 * PERIOD;
    expect(nonces.isValid(first)).toBe(false);
    expect(nonces.isValid(nonces.current())).toBe(true);
  });

  it('refuses a nonce from the next period (the clock has not reached it)', () => {
    const c = manualClock(START + PERIOD);
    const next = new HmacDpopNonces(c.fn, PERIOD, secret(1)).current();
    c.now = START;
    expect(new HmacDpopNonces(c.fn, PERIOD, secret(1)).isValid(next)).toBe(false);
  });

  it.each([['forged'], [''], ['a'.repeat(43)]])('refuses %j', (value) => {
    expect(new HmacDpopNonces(manualClock(START).fn, PERIOD, secret(1)).isValid(value)).toBe(false);
  });

  it('agrees across instances sharing the secret (several nodes)', () => {
    const c = manualClock(START);
    const a = new HmacDpopNonces(c.fn, PERIOD, secret(7));
    const b = new HmacDpopNonces(c.fn, PERIOD, secret(7));
    expect(a.current()).toBe(b.current());
    const old = a.current();
    c.now = START + PERIOD;
    expect(b.isValid(old)).toBe(true);
    expect(b.isValid(a.current())).toBe(true);
  });

  it('disagrees across different secrets, and across instances with a random secret', () => {
    const c = manualClock(START);
    const a = new HmacDpopNonces(c.fn, PERIOD, secret(7));
    const b = new HmacDpopNonces(c.fn, PERIOD, secret(8));
    expect(a.current()).not.toBe(b.current());
    expect(b.isValid(a.current())).toBe(false);
    expect(new HmacDpopNonces(c.fn, PERIOD).current()).not.toBe(new HmacDpopNonces(c.fn, PERIOD).current());
  });

  it('gives the same answers whatever order the periods are asked in', () => {
    const c = manualClock(START + PERIOD);
    const nonces = new HmacDpopNonces(c.fn, PERIOD, secret(1));
    const second = nonces.current();
    c.now = START; // the clock steps back: the cache of the newer period must not answer
    const first = nonces.current();
    expect(first).not.toBe(second);
    expect(first).toBe(new HmacDpopNonces(manualClock(START).fn, PERIOD, secret(1)).current());
    c.now = START + PERIOD;
    expect(nonces.current()).toBe(second);
  });
});

describe('HmacDpopNonces keyed by a rotating secret', () => {
  const ROTATION = 10 * PERIOD;
  /** Epoch e's secret: 32 bytes of e. */
  const rotating = (time: number) => secret(Math.floor(time / ROTATION));

  it('keys each period by the secret of the epoch it starts in, and accepts the previous period across a rotation', () => {
    const boundary = ROTATION; // epoch 1 begins
    const c = manualClock(boundary - PERIOD);
    const nonces = new HmacDpopNonces(c.fn, PERIOD, rotating);
    const last = nonces.current();
    expect(last).toBe(new HmacDpopNonces(c.fn, PERIOD, secret(0)).current());
    c.now = boundary;
    const first = nonces.current();
    expect(first).toBe(new HmacDpopNonces(c.fn, PERIOD, secret(1)).current());
    expect(nonces.isValid(first)).toBe(true);
    expect(nonces.isValid(last)).toBe(true);
  });
});
