import { describe, expect, it } from 'vitest';
import { madeBeforeStart, mustOutliveProcess } from './replay-window.js';

describe('single use across restarts', () => {
  it('refuses an anchor at or before the start second, accepts one after it', () => {
    expect(madeBeforeStart(999, 1000)).toBe(true);
    // The previous process may have accepted it in that same second (SIGKILL, restart).
    expect(madeBeforeStart(1000, 1000)).toBe(true);
    expect(madeBeforeStart(1001, 1000)).toBe(false);
  });

  it('persists only what is accepted while its anchor is in the future', () => {
    expect(mustOutliveProcess(1005, 1000)).toBe(true);
    expect(mustOutliveProcess(1000, 1000)).toBe(false);
    expect(mustOutliveProcess(990, 1000)).toBe(false);
  });

  it('leaves no value the previous process accepted both unrefused and unpersisted', () => {
    // Every acceptance second A of the previous process, every anchor it could accept
    // (up to 10 s of skew ahead, 310 s back), every start second S >= A of the next one.
    const unsafe: number[][] = [];
    for (let accepted = 0; accepted < 20; accepted++) {
      for (let anchor = accepted - 310; anchor <= accepted + 10; anchor++) {
        for (let start = accepted; start < accepted + 20; start++) {
          if (!madeBeforeStart(anchor, start) && !mustOutliveProcess(anchor, accepted)) unsafe.push([accepted, anchor, start]);
        }
      }
    }
    expect(unsafe).toEqual([]);
  });
});
