import type { AuthorizationRequest } from '../../domain/authorization-request.js';
import { isPublicClient, type Client } from '../../domain/client.js';
import { InvalidDpopProof, InvalidRequest, InvalidRequestUri, type OAuthError } from '../../protocol/errors.js';
import { single, type RawParameters } from '../../protocol/parameters.js';
import { randomToken } from '../../protocol/random.js';
import type { Clock } from '../ports/clock.js';
import type { ParStore } from '../ports/par-store.js';
import type { ClientRepository } from '../ports/repositories.js';
import type { IdTokenHints } from '../services/id-token-hint.js';
import { AuthorizationPageError, AuthorizationRedirectError } from './authorization-errors.js';
import { validateAuthorizationRequest } from './validate.js';

/** RFC 9126 §2.2: the request_uri is a URN; its random part carries 256 bits. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

export interface PushedRequestsOptions {
  /** RFC 9126 §2.2 expires_in: seconds the request_uri may be used. */
  readonly ttl: number;
  /** Config par.required: every client must push. */
  readonly required: boolean;
  /** Verifies an id_token_hint pushed with the request, as /auth does. */
  readonly idTokenHints: IdTokenHints;
}

/**
 * Pushed authorization requests (RFC 9126): validated at /par exactly like /auth would,
 * stored for `ttl` seconds, then resolved at /auth. The request_uri can be reloaded until the
 * authorization completes (code issued or error returned), then never again.
 */
export class PushedRequests {
  constructor(
    private readonly clients: ClientRepository,
    private readonly store: ParStore,
    private readonly clock: Clock,
    readonly options: PushedRequestsOptions,
  ) {}

  /**
   * /par, once the client is authenticated. Errors are OAuth errors for a JSON answer.
   * @param validated called once the request was validated, before anything is stored; if it
   *   throws (a replayed DPoP proof, a full replay cache), nothing is stored, and nothing evicted
   *   to make room
   */
  async push(client: Client, params: RawParameters, proofJkt: string | undefined, validated?: () => Promise<void>): Promise<{ requestUri: string; expiresIn: number }> {
    const clientId = single(params, 'client_id', 128);
    // RFC 9126 §2.1: the client_id, if sent, is the authenticated client's.
    if (clientId !== undefined && clientId !== client.clientId) throw new InvalidRequest('client_id does not match the authenticated client');
    let request: AuthorizationRequest;
    try {
      request = await validateAuthorizationRequest({ ...params, client_id: client.clientId }, this.clients, { endpoint: 'par', parRequired: this.options.required, idTokenHints: this.options.idTokenHints });
    } catch (error) {
      if (error instanceof AuthorizationPageError || error instanceof AuthorizationRedirectError) throw error.error;
      throw error;
    }
    // RFC 9449 §10.1: a DPoP proof at PAR binds the code like dpop_jkt; both must then agree.
    if (proofJkt !== undefined && request.dpopJkt !== undefined && proofJkt !== request.dpopJkt) {
      throw new InvalidDpopProof('dpop_jkt does not match the key of the DPoP proof');
    }
    await validated?.();
    const handle = randomToken();
    const expiresAt = this.clock.now() + this.options.ttl;
    // A public client's pushes cost anyone nothing: at its share, its oldest pending request makes room.
    await this.store.save(
      handle,
      { clientId: client.clientId, request: { ...request, dpopJkt: request.dpopJkt ?? proofJkt, pushedHandle: handle }, expiresAt },
      { makeRoom: isPublicClient(client) },
    );
    return { requestUri: REQUEST_URI_PREFIX + handle, expiresIn: this.options.ttl };
  }

  /**
   * /auth with request_uri (RFC 9126 §4): every parameter comes from the pushed request.
   * RFC 9101 §5 (which RFC 9126 §4 applies): parameters repeated in the query are ignored, never
   * merged — OIDC Core §6.1–6.2 make clients repeat response_type and scope, most PAR clients
   * repeat redirect_uri, and none of them (nor state, nonce, prompt, dpop_jkt…) may override
   * or add to what was pushed. Only client_id and request_uri are read, each once.
   */
  async resolve(params: RawParameters): Promise<AuthorizationRequest> {
    const page = (error: OAuthError) => new AuthorizationPageError(error);
    let clientId: string | undefined;
    let requestUri: string | undefined;
    try {
      // RFC 6749 §3.1: not repeated.
      clientId = single(params, 'client_id', 128);
      requestUri = single(params, 'request_uri', 512);
    } catch (error) {
      throw page(error as OAuthError);
    }
    if (clientId === undefined) throw page(new InvalidRequest('client_id is required'));
    const client = await this.clients.findById(clientId);
    if (client === undefined) throw page(new InvalidRequest('client_id is not a registered client'));
    const handle = requestUri?.startsWith(REQUEST_URI_PREFIX) ? requestUri.slice(REQUEST_URI_PREFIX.length) : undefined;
    const pushed = handle === undefined ? undefined : await this.store.find(handle);
    if (pushed === undefined) throw page(new InvalidRequestUri('request_uri is invalid, expired or already used'));
    // RFC 9126 §4: the request_uri is bound to the client that pushed it.
    if (pushed.clientId !== client.clientId) throw page(new InvalidRequestUri('request_uri was not pushed by this client'));
    return pushed.request;
  }

  /** The authorization finished (code issued or error returned): spend the request_uri. */
  async complete(request: AuthorizationRequest): Promise<void> {
    if (request.pushedHandle !== undefined) await this.store.delete(request.pushedHandle);
  }
}
