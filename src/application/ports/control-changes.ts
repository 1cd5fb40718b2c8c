/**
 * Changes made through the control plane (clients, users, roles, keys, revocations), whoever made
 * them: this process, the CLI or another server on the same database. Caches that hold such data
 * register a listener that drops or reloads them; the listener runs on the next request after a
 * change made elsewhere, and at once for a change made here.
 */
export interface ControlChanges {
  onChange(listener: () => void): void;
}
