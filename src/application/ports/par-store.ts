import type { AuthorizationRequest } from '../../domain/authorization-request.js';

/** A pushed authorization request (RFC 9126), validated, waiting for the browser at /auth. */
export interface PushedRequest {
  readonly clientId: string;
  readonly request: AuthorizationRequest;
  readonly expiresAt: number;
}

/**
 * Where pushed requests wait, keyed by the random part of the request_uri. In memory on one
 * node; a shared store implements the same port for several nodes.
 */
export interface ParStore {
  /**
   * Throws TemporarilyUnavailable when full, or when `pushed.clientId` already has its share of
   * pending requests (one client must not lock the others out). With `makeRoom` (a public client:
   * anyone can push as it), the client's oldest pending request is dropped instead of refusing, so
   * that a flood of pushes never locks its users out.
   */
  save(handle: string, pushed: PushedRequest, options?: { readonly makeRoom?: boolean }): Promise<void>;
  /** Undefined when unknown, expired or deleted. */
  find(handle: string): Promise<PushedRequest | undefined>;
  /** Called when the authorization completes: the request_uri cannot be used again. */
  delete(handle: string): Promise<void>;
}
