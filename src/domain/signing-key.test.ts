import { describe, expect, it } from 'vitest';
import {
  expectedRetirement,
  isSigningAlg,
  nextChange,
  removedKeys,
  rotationPlan,
  scheduledKeys,
  stateAt,
  timelines,
  type RotationPolicy,
  type ScheduledKey,
} from './signing-key.js';

const DAY = 86_400;
const T0 = 1_700_000_000;
const POLICY: RotationPolicy = { interval: 90 * DAY, prepublish: DAY, retention: 8 * 3600 + 300 };

const key = (kid: string, activatesAt: number, alg: ScheduledKey['alg'] = 'ES256'): ScheduledKey => ({ kid, alg, createdAt: activatesAt - DAY, activatesAt });

describe('signing key states', () => {
  // A is signing; B is prepublished for day 90; C (another algorithm) does not retire A.
  const keys = timelines([key('B', T0 + 90 * DAY), key('A', T0), key('C', T0 + 10, 'PS256')], POLICY.retention);
  const [a, b] = [keys.find((k) => k.kid === 'A')!, keys.find((k) => k.kid === 'B')!];

  it('a key does not sign before its activation second, and a retired key is still published until its removal', () => {
    expect(stateAt(b, T0 + 90 * DAY - 1)).toBe('prepublished');
    expect(stateAt(a, T0 - 1)).toBe('prepublished');
    expect(stateAt(a, T0 + 90 * DAY)).toBe('retired');
    expect(stateAt(a, T0 + 90 * DAY + POLICY.retention - 1)).toBe('retired');
    expect(removedKeys(keys, T0 + 90 * DAY + POLICY.retention - 1)).toEqual([]);
  });

  it('crosses every boundary: prepublished → active → retired → removed', () => {
    expect(a).toMatchObject({ retiresAt: T0 + 90 * DAY, removesAt: T0 + 90 * DAY + POLICY.retention });
    expect(b).toMatchObject({ retiresAt: undefined, removesAt: undefined });
    expect(stateAt(a, T0)).toBe('active');
    expect(stateAt(b, T0 + 90 * DAY)).toBe('active');
    expect(stateAt(a, T0 + 90 * DAY + POLICY.retention)).toBe('removed');
    expect(removedKeys(keys, T0 + 90 * DAY + POLICY.retention)).toEqual(['A']);
    // A key without a successor signs on, whatever the time.
    expect(stateAt(b, T0 + 10_000 * DAY)).toBe('active');
  });

  it('names the next boundary after any second, and none after the last', () => {
    expect(nextChange(keys, T0 - 1)).toBe(T0);
    expect(nextChange(keys, T0)).toBe(T0 + 10);
    expect(nextChange(keys, T0 + 10)).toBe(T0 + 90 * DAY);
    expect(nextChange(keys, T0 + 90 * DAY)).toBe(T0 + 90 * DAY + POLICY.retention);
    expect(nextChange(keys, T0 + 90 * DAY + POLICY.retention)).toBe(Infinity);
  });

  it('expects a key without a successor to retire at the end of its interval, or a prepublication after now when late', () => {
    expect(expectedRetirement(a, POLICY, T0)).toBe(T0 + 90 * DAY);
    expect(expectedRetirement(b, POLICY, T0)).toBe(T0 + 180 * DAY);
    expect(expectedRetirement(b, POLICY, T0 + 200 * DAY)).toBe(T0 + 201 * DAY);
  });

  it('knows the signing algorithms and nothing else', () => {
    for (const bad of ['es256', 'HS256', 'none', '', 1, null, undefined]) expect(isSigningAlg(bad)).toBe(false);
    expect(isSigningAlg('EdDSA')).toBe(true);
  });
});

describe('scheduled rotation', () => {
  it('creates a signing key and its successor, an interval later, when none signs (the first start)', () => {
    expect(scheduledKeys([], 'EdDSA', T0, POLICY)).toEqual([T0, T0 + 90 * DAY]);
    const one = timelines([key('A', T0)], POLICY.retention);
    expect(scheduledKeys(one, 'PS256', T0, POLICY)).toEqual([T0, T0 + 90 * DAY]);
    // A key that signs from a later second (another process, its clock ahead) stays the successor.
    expect(scheduledKeys(one, 'ES256', T0 - 5, POLICY)).toEqual([T0 - 5]);
  });

  it('gives a signing key without a successor one at once, due at the end of its interval, never less than a prepublication later', () => {
    const one = timelines([key('A', T0)], POLICY.retention);
    expect(scheduledKeys(one, 'ES256', T0, POLICY)).toEqual([T0 + 90 * DAY]);
    expect(scheduledKeys(one, 'ES256', T0 + 10 * 60, POLICY)).toEqual([T0 + 90 * DAY]);
    expect(scheduledKeys(one, 'ES256', T0 + 89 * DAY, POLICY)).toEqual([T0 + 90 * DAY]);
    expect(scheduledKeys(one, 'ES256', T0 + 89 * DAY + 5, POLICY)).toEqual([T0 + 90 * DAY + 5]);
    // Down at the planned time: the successor is still published a full day before it signs.
    expect(scheduledKeys(one, 'ES256', T0 + 120 * DAY, POLICY)).toEqual([T0 + 121 * DAY]);
  });

  it('creates nothing while the signing key has a successor', () => {
    const two = timelines([key('A', T0), key('B', T0 + 90 * DAY)], POLICY.retention);
    for (const at of [T0, T0 + DAY, T0 + 89 * DAY + 5, T0 + 90 * DAY - 1]) expect(scheduledKeys(two, 'ES256', at, POLICY)).toEqual([]);
    // B signs from its second on, without a successor: one is due.
    expect(scheduledKeys(two, 'ES256', T0 + 90 * DAY, POLICY)).toEqual([T0 + 180 * DAY]);
  });

  it('keeps one signing key and one published successor after every maintenance and rotation, for 200 days', () => {
    let keys: ScheduledKey[] = [];
    let serial = 0;
    const add = (activatesAt: number) => keys.push({ kid: `k${serial++}`, alg: 'ES256', createdAt: now, activatesAt });
    const maintain = () => {
      scheduledKeys(timelines(keys, POLICY.retention), 'ES256', now, POLICY).forEach(add);
      keys = keys.filter((k) => !removedKeys(timelines(keys, POLICY.retention), now).includes(k.kid));
    };
    const states = () => timelines(keys, POLICY.retention).map((k) => stateAt(k, now));
    // The maintenance every 10 minutes for 200 days, and on-demand rotations (one a second after another).
    const rotations = new Set([T0 + 3 * DAY, T0 + 3 * DAY + 1, T0 + 100 * DAY + 7]);
    const times = [...new Set([...Array.from({ length: (200 * DAY) / 600 }, (_, i) => T0 + i * 600), ...rotations])].sort((a, b) => a - b);
    let now = T0;
    for (now of times) {
      maintain();
      if (rotations.has(now)) {
        const timeline = timelines(keys, POLICY.retention);
        const plan = rotationPlan(timeline, 'ES256', now, POLICY);
        const [retiring, promoted] = [keys.find((k) => k.kid === plan.retired)!, keys.find((k) => k.kid === plan.promote)!];
        // The key that signs now was published within a maintenance of the retiring key's activation.
        expect(promoted.createdAt).toBeLessThanOrEqual(retiring.activatesAt + 600);
        keys = keys.map((k) => (k === promoted ? { ...k, activatesAt: plan.activatesAt } : k));
        plan.create.forEach(add);
      }
      const counts = states();
      expect(counts.filter((state) => state === 'active'), `at ${now - T0}`).toHaveLength(1);
      expect(counts.filter((state) => state === 'prepublished'), `at ${now - T0}`).toHaveLength(1);
    }
  });
});

describe('on-demand rotation', () => {
  it('activates the prepublished key now and prepublishes a new one an interval later', () => {
    const keys = timelines([key('A', T0), key('B', T0 + 90 * DAY)], POLICY.retention);
    expect(rotationPlan(keys, 'ES256', T0 + 5 * DAY, POLICY)).toEqual({
      alg: 'ES256',
      retired: 'A',
      promote: 'B',
      activatesAt: T0 + 5 * DAY,
      create: [T0 + 95 * DAY],
      next: undefined,
    });
  });

  it('creates the new signing key when none was prepublished, and never reuses an activation second', () => {
    const keys = timelines([key('A', T0)], POLICY.retention);
    expect(rotationPlan(keys, 'ES256', T0 + DAY, POLICY)).toEqual({ alg: 'ES256', retired: 'A', promote: undefined, activatesAt: T0 + DAY, create: [T0 + DAY, T0 + 91 * DAY], next: undefined });
    // A activated this very second: its successor activates the next one.
    expect(rotationPlan(keys, 'ES256', T0, POLICY)).toMatchObject({ activatesAt: T0 + 1, create: [T0 + 1, T0 + 1 + 90 * DAY] });
    expect(rotationPlan([], 'RS256', T0, POLICY)).toEqual({ alg: 'RS256', retired: undefined, promote: undefined, activatesAt: T0, create: [T0, T0 + 90 * DAY], next: undefined });
  });

  it('keeps a second prepublished key as the successor instead of adding a third', () => {
    const keys = timelines([key('A', T0), key('B', T0 + 90 * DAY), key('C', T0 + 180 * DAY)], POLICY.retention);
    expect(rotationPlan(keys, 'ES256', T0 + DAY, POLICY)).toMatchObject({ promote: 'B', create: [], next: 'C' });
  });
});
