import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit } from './concurrency-limit.js';

class Full extends Error {}

/** A job that runs until its test lets it finish, and says when it started. */
function controlledJob(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const job = async () => {
    log.push(`start ${name}`);
    await done;
    log.push(`end ${name}`);
    return name;
  };
  return { job, finish };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit', () => {
  it('runs at most `concurrency` jobs at once, the others in arrival order', async () => {
    const log: string[] = [];
    const limit = new ConcurrencyLimit(2, 10, () => new Full());
    const jobs = ['a', 'b', 'c', 'd'].map((name) => controlledJob(log, name));
    const results = jobs.map(({ job }) => limit.run(job));
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    jobs[1]!.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    jobs[0]!.finish();
    jobs[2]!.finish();
    jobs[3]!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(log.filter((line) => line.startsWith('start'))).toEqual(['start a', 'start b', 'start c', 'start d']);
  });

  it('refuses beyond maxWaiting, without running the job, and takes jobs again once there is room', async () => {
    const log: string[] = [];
    const limit = new ConcurrencyLimit(1, 1, () => new Full('busy'));
    const first = controlledJob(log, 'first');
    const second = controlledJob(log, 'second');
    const running = limit.run(first.job);
    const waiting = limit.run(second.job);
    await expect(limit.run(async () => log.push('third'))).rejects.toBeInstanceOf(Full);
    first.finish();
    second.finish();
    await Promise.all([running, waiting]);
    expect(log).toEqual(['start first', 'end first', 'start second', 'end second']);
    expect(await limit.run(async () => 'again')).toBe('again');
  });

  it('frees the slot when a job fails', async () => {
    const limit = new ConcurrencyLimit(1, 0, () => new Full());
    await expect(limit.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit.run(async () => 'next')).toBe('next');
  });

  it('refuses a concurrency below 1 or a negative maxWaiting', () => {
    expect(() => new ConcurrencyLimit(0, 1, () => new Full())).toThrow(RangeError);
    expect(() => new ConcurrencyLimit(1, -1, () => new Full())).toThrow(RangeError);
  });

  it('lets each key wait at most maxWaitingPerKey times, so one key cannot take the whole queue', async () => {
    const log: string[] = [];
    const limit = new ConcurrencyLimit(1, 10, () => new Full('busy'), 2);
    const jobs = ['a1', 'a2', 'a3', 'a4', 'b1', 'b2'].map((name) => controlledJob(log, name));
    const keyOf = (name: string) => name.slice(0, 1);
    const names = ['a1', 'a2', 'a3', 'a4', 'b1', 'b2'];
    // a1 runs, a2 and a3 wait, a4 is refused: a holds its share; b still waits its turn.
    const results = names.map((name, i) => limit.run(jobs[i]!.job, keyOf(name)).catch((error: unknown) => error));
    await settle();
    expect(log).toEqual(['start a1']);
    expect(await results[3]).toBeInstanceOf(Full);
    for (const job of jobs) job.finish();
    expect(await Promise.all([results[0], results[1], results[2], results[4], results[5]])).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    expect(log.filter((line) => line.startsWith('start'))).toEqual(['start a1', 'start a2', 'start a3', 'start b1', 'start b2']);
  });

  it("gives a key its share back as its waiting jobs start, and counts a job without a key only overall", async () => {
    const log: string[] = [];
    const limit = new ConcurrencyLimit(1, 3, () => new Full('busy'), 1);
    const first = controlledJob(log, 'first');
    const second = controlledJob(log, 'second');
    const running = limit.run(first.job, 'a');
    const waiting = limit.run(second.job, 'a');
    await expect(limit.run(async () => 'a again', 'a')).rejects.toBeInstanceOf(Full);
    const unkeyed = [limit.run(async () => 'x'), limit.run(async () => 'y')];
    await expect(limit.run(async () => 'z')).rejects.toBeInstanceOf(Full); // the overall bound (3)
    first.finish();
    await settle();
    expect(log).toEqual(['start first', 'end first', 'start second']);
    const again = limit.run(async () => 'a again', 'a'); // second runs: a waits no more
    second.finish();
    expect(await Promise.all([running, waiting, ...unkeyed, again])).toEqual(['first', 'second', 'x', 'y', 'a again']);
  });

  it('refuses a negative maxWaitingPerKey', () => {
    expect(() => new ConcurrencyLimit(1, 1, () => new Full(), -1)).toThrow(RangeError);
  });
});
