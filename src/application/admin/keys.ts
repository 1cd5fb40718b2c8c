import { SIGNING_ALGS, type SigningAlg } from '../../domain/client.js';
import { expectedRetirement, isSigningAlg, RotationRefused, stateAt, type SigningKeyState } from '../../domain/signing-key.js';
import type { Clock } from '../ports/clock.js';
import type { KeyRotation, SigningKeyLifecycle } from '../ports/key-store.js';
import type { AuditLog } from '../ports/repositories.js';
import { recordChange, type Actor } from './changes.js';
import { Conflict, InvalidField } from './errors.js';

/** A signing key as the management API and the CLI show it: public facts only, dates in ISO 8601. */
export interface KeyView {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly state: Exclude<SigningKeyState, 'removed'>;
  readonly created_at: string;
  readonly activates_at: string;
  /** When it stops signing: its successor's activation, or when one is expected to be scheduled. */
  readonly retires_at: string;
  /** When it leaves the JWKS. */
  readonly removes_at: string;
}

export interface RotationView {
  readonly alg: SigningAlg;
  readonly retired: string | null;
  readonly active: string;
  /** Now, or the next second when the retired key was itself activated this second. */
  readonly activates_at: string;
  readonly next: string | null;
}

/**
 * The provider's signing keys: their lifecycle (docs/keys.md) and on-demand rotation. Nothing
 * here ever returns private key material.
 */
export class KeyAdmin {
  constructor(private readonly deps: { readonly keys: SigningKeyLifecycle; readonly audit: AuditLog; readonly clock: Clock }) {}

  /** Every published key, by algorithm then activation. */
  async list(): Promise<KeyView[]> {
    const now = this.deps.clock.now();
    const { policy } = this.deps.keys;
    const views: KeyView[] = [];
    for (const key of await this.deps.keys.list()) {
      const state = stateAt(key, now);
      if (state === 'removed') continue; // published no more; its row goes at the next maintenance
      const retiresAt = expectedRetirement(key, policy, now);
      views.push({
        kid: key.kid,
        alg: key.alg,
        state,
        created_at: iso(key.createdAt),
        activates_at: iso(key.activatesAt),
        retires_at: iso(retiresAt),
        removes_at: iso(key.removesAt ?? retiresAt + policy.retention),
      });
    }
    return views.sort((a, b) => SIGNING_ALGS.indexOf(a.alg) - SIGNING_ALGS.indexOf(b.alg) || a.activates_at.localeCompare(b.activates_at));
  }

  /**
   * The prepublished key of `alg` (of every algorithm without one) signs from now on, the one
   * signing until now retires, and a new successor is prepublished. Relying parties know the
   * new key already: within the JWKS cache time of the last activation it is refused (409)
   * unless forced (docs/keys.md).
   */
  async rotate(actor: Actor, input: { readonly alg?: unknown; readonly force?: boolean }): Promise<RotationView[]> {
    if (input.alg !== undefined && !isSigningAlg(input.alg)) throw new InvalidField('alg', `must be one of ${SIGNING_ALGS.join(', ')}`);
    const algs: readonly SigningAlg[] = input.alg === undefined ? SIGNING_ALGS : [input.alg];
    let rotated: KeyRotation[];
    try {
      rotated = await this.deps.keys.rotate(algs, this.deps.clock.now(), input.force === true);
    } catch (error) {
      if (error instanceof RotationRefused) throw new Conflict(error.message);
      throw error;
    }
    const rotations = rotated.map(view);
    recordChange(
      this.deps.audit,
      actor,
      'keys.rotated',
      {},
      rotations.map(({ alg, retired }) => ({ alg, kid: retired })),
      rotations.map(({ alg, active, next }) => ({ alg, kid: active, next })),
    );
    return rotations;
  }
}

function view(rotation: KeyRotation): RotationView {
  return { alg: rotation.alg, retired: rotation.retired ?? null, active: rotation.active, activates_at: iso(rotation.activatesAt), next: rotation.next ?? null };
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
