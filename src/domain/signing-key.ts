import { SIGNING_ALGS, type SigningAlg } from './client.js';

/**
 * A signing key's life: published before it signs (relying parties that cache the JWKS learn it
 * first), then signing, then published without signing until everything it signed has expired,
 * then gone. Each algorithm has its own chain of keys; a key retires when its successor activates.
 */
export type SigningKeyState = 'prepublished' | 'active' | 'retired' | 'removed';

/** A key as stored: when it was made and when it starts signing (epoch seconds). */
export interface ScheduledKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly createdAt: number;
  readonly activatesAt: number;
}

/** A key with the dates that follow from its successor. */
export interface KeyTimeline extends ScheduledKey {
  /** When its successor starts signing; undefined while it has none. */
  readonly retiresAt: number | undefined;
  /** When it leaves the JWKS (retiresAt + retention); undefined while it has no successor. */
  readonly removesAt: number | undefined;
}

export interface RotationPolicy {
  /** Seconds a key signs before its successor takes over. */
  readonly interval: number;
  /** Seconds a successor is published before it signs. */
  readonly prepublish: number;
  /** Seconds a retired key stays published: the longest lifetime of what it signed, plus a margin. */
  readonly retention: number;
}

/** Each key's retirement and removal, from the activation of the next key of its algorithm. */
export function timelines(keys: readonly ScheduledKey[], retention: number): KeyTimeline[] {
  const sorted = [...keys].sort((a, b) => a.activatesAt - b.activatesAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0));
  return sorted.map((key, index) => {
    const successor = sorted.slice(index + 1).find((other) => other.alg === key.alg);
    const retiresAt = successor?.activatesAt;
    return { ...key, retiresAt, removesAt: retiresAt === undefined ? undefined : retiresAt + retention };
  });
}

export function stateAt(key: KeyTimeline, now: number): SigningKeyState {
  if (now < key.activatesAt) return 'prepublished';
  if (key.retiresAt === undefined || now < key.retiresAt) return 'active';
  if (key.removesAt === undefined || now < key.removesAt) return 'retired';
  return 'removed';
}

/** The first second after `now` at which some key changes state (Infinity if none will). */
export function nextChange(keys: readonly KeyTimeline[], now: number): number {
  let next = Infinity;
  for (const key of keys) {
    for (const at of [key.activatesAt, key.retiresAt, key.removesAt]) {
      if (at !== undefined && at > now && at < next) next = at;
    }
  }
  return next;
}

/**
 * When a key without a successor is expected to retire: at the end of its interval, or, if the
 * job that prepublishes its successor has not run by then, a full prepublication after now.
 */
export function expectedRetirement(key: KeyTimeline, policy: RotationPolicy, now: number): number {
  if (key.retiresAt !== undefined) return key.retiresAt;
  return Math.max(key.activatesAt + policy.interval, now + policy.prepublish);
}

/**
 * The scheduled rotation of one algorithm: the activation times of the keys to create now.
 * No key signing: one that signs at once (the first start) and its successor, unless a later key
 * is published already. A signing key without a successor: a successor at once, activating at the
 * end of the interval, yet never before it has been published for `prepublish` (the server may
 * have been down at the planned time). So a successor is always published, long before it signs:
 * an on-demand rotation activates a key relying parties have had since the previous rotation.
 * (Between a scheduled activation and the next maintenance, minutes, the new key has none.)
 */
export function scheduledKeys(keys: readonly KeyTimeline[], alg: SigningAlg, now: number, policy: RotationPolicy): number[] {
  const own = keys.filter((key) => key.alg === alg);
  const active = own.find((key) => stateAt(key, now) === 'active');
  if (active === undefined) {
    // A key another process made to sign from a later second (its clock ahead): it stays the
    // successor, with no second one beside it.
    return own.some((key) => stateAt(key, now) === 'prepublished') ? [now] : [now, now + policy.interval];
  }
  if (active.retiresAt !== undefined) return []; // its successor is published already
  return [Math.max(active.activatesAt + policy.interval, now + policy.prepublish)];
}

/** An on-demand rotation of one algorithm: which published key to activate and which keys to create. */
export interface RotationPlan {
  readonly alg: SigningAlg;
  readonly retired: string | undefined;
  /** The prepublished key that activates (undefined: a new key activates, not published before). */
  readonly promote: string | undefined;
  readonly activatesAt: number;
  /** Activation times of the keys to create: the new key (when none was prepublished) and the next one. */
  readonly create: readonly number[];
  /** The successor already prepublished, when none is created. */
  readonly next: string | undefined;
}

/**
 * The next key activates now and the signing one retires now; a new successor is prepublished,
 * due a full interval later. Activation times are unique per algorithm: a key activated within
 * this very second is followed one second later (so a rotation repeated within that second,
 * a retry, finds the same plan again).
 */
export function rotationPlan(keys: readonly KeyTimeline[], alg: SigningAlg, now: number, policy: RotationPolicy): RotationPlan {
  const own = keys.filter((key) => key.alg === alg);
  const active = own.find((key) => stateAt(key, now) === 'active');
  const prepublished = own.filter((key) => stateAt(key, now) === 'prepublished');
  const activatesAt = active === undefined ? now : Math.max(now, active.activatesAt + 1);
  const next = prepublished[0];
  const create = next === undefined ? [activatesAt] : [];
  // A later prepublished key (there is normally none) stays the successor.
  if (prepublished.length < 2) create.push(activatesAt + policy.interval);
  return { alg, retired: active?.kid, promote: next?.kid, activatesAt, create, next: prepublished[1]?.kid };
}

/**
 * An on-demand rotation sooner than this after the signing key activated is refused (unless
 * forced): relying parties cache the JWKS this long (src/http/static-documents.ts,
 * DOCUMENT_MAX_AGE_SECONDS), and the successor that would activate was published only after that
 * activation. It also stops two rotations racing (the API and the CLI) from chaining.
 */
export const MIN_ROTATION_GAP_SECONDS = 300;
/** At most this many published keys per algorithm: a forced rotation loop cannot grow the JWKS without end. */
export const MAX_PUBLISHED_KEYS_PER_ALG = 12;

/** Why an on-demand rotation of `alg` is refused now, or undefined. */
export function rotationRefusal(keys: readonly KeyTimeline[], alg: SigningAlg, now: number, force: boolean): string | undefined {
  const own = keys.filter((key) => key.alg === alg && stateAt(key, now) !== 'removed');
  if (own.length >= MAX_PUBLISHED_KEYS_PER_ALG) {
    return `${alg} has ${own.length} published keys (at most ${MAX_PUBLISHED_KEYS_PER_ALG}): wait until retired ones are removed`;
  }
  const active = own.find((key) => stateAt(key, now) === 'active');
  if (!force && active !== undefined && now - active.activatesAt < MIN_ROTATION_GAP_SECONDS) {
    return `${alg} was rotated ${now - active.activatesAt} s ago: relying parties may cache the JWKS ${MIN_ROTATION_GAP_SECONDS} s; retry in ${MIN_ROTATION_GAP_SECONDS - (now - active.activatesAt)} s, or force it`;
  }
  return undefined;
}

/** An on-demand rotation refused (see rotationRefusal): the control plane answers 409. */
export class RotationRefused extends Error {}

/** Keys whose removal time has passed: their rows may go. */
export function removedKeys(keys: readonly KeyTimeline[], now: number): string[] {
  return keys.filter((key) => stateAt(key, now) === 'removed').map((key) => key.kid);
}

export function isSigningAlg(value: unknown): value is SigningAlg {
  return typeof value === 'string' && (SIGNING_ALGS as readonly string[]).includes(value);
}
