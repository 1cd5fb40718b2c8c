import type { Client } from '../../domain/client.js';

/** The outcome of checking input: the value, or the first wrong field (dotted: `redirect_uris.0`) and why. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly field: string; readonly message: string };

/** A client entry checked: the domain Client and the control plane's own fields. */
export interface ClientEntry {
  readonly client: Client;
  readonly owner: string | undefined;
  readonly description: string | undefined;
  /** Seconds; whether it is in the future is the caller's check (it has the clock). */
  readonly expiresAt: number | undefined;
}

/**
 * config.yaml's client rules for the control plane (implemented with the same zod schema,
 * src/config/schema.ts), so the management API and the CLI accept exactly what the file would.
 */
export interface ClientEntryRules {
  /**
   * A whole entry in config.yaml's wire names (client_secret included when its method needs one)
   * plus `owner`, `description` and `expires_at` (ISO 8601 date-time).
   */
  check(entry: unknown): Checked<ClientEntry>;
  /** A stored client's wire form, without the secret: what reads show and what a PATCH merges into. */
  wireOf(client: Client): Record<string, unknown>;
  /** One public JWK, checked as each of `jwks.keys` is. */
  checkKey(key: unknown): Checked<Record<string, unknown>>;
}
