import type { AuthorizationRequest } from '../../domain/authorization-request.js';
import { requiresPushedRequests, type Client } from '../../domain/client.js';
import { InvalidDpopProof, InvalidRequest, InvalidRequestUri, type OAuthError } from '../../protocol/errors.js';
import { single, type RawParameters } from '../../protocol/parameters.js';
import { randomToken } from '../../protocol/random.js';
import type { Clock } from '../ports/clock.js';
import type { ParStore } from '../ports/par-store.js';
import type { ClientRepository } from '../ports/repositories.js';
import { AuthorizationPageError, AuthorizationRedirectError } from './authorization-errors.js';
import { validateAuthorizationRequest } from './validate.js';

/** RFC 9126 §2.2: the request_uri is a URN; its random part carries 256 bits. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

export interface PushedRequestsOptions {
  /** RFC 9126 §2.2 expires_in: seconds the request_uri may be used. */
  readonly ttl: number;
  /** Config par.required: every client must push. */
  readonly required: boolean;
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

  /** /par, once the client is authenticated. Errors are OAuth errors for a JSON answer. */
  async push(client: Client, params: RawParameters, proofJkt: string | undefined): Promise<{ requestUri: string; expiresIn: number }> {
    const clientId = single(params, 'client_id', 128);
    // RFC 9126 §2.1: the client_id, if sent, is the authenticated client's.
    if (clientId !== undefined && clientId !== client.clientId) throw new InvalidRequest('client_id does not match the authenticated client');
    let request: AuthorizationRequest;
    try {
      request = await validateAuthorizationRequest({ ...params, client_id: client.clientId }, this.clients, { endpoint: 'par', parRequired: this.options.required });
    } catch (error) {
      if (error instanceof AuthorizationPageError || error instanceof AuthorizationRedirectError) throw error.error;
      throw error;
    }
    // RFC 9449 §10.1: a DPoP proof at PAR binds the code like dpop_jkt; both must then agree.
    if (proofJkt !== undefined && request.dpopJkt !== undefined && proofJkt !== request.dpopJkt) {
      throw new InvalidDpopProof('dpop_jkt does not match the key of the DPoP proof');
    }
    const handle = randomToken();
    const expiresAt = this.clock.now() + this.options.ttl;
    await this.store.save(handle, { clientId: client.clientId, request: { ...request, dpopJkt: request.dpopJkt ?? proofJkt, pushedHandle: handle }, expiresAt });
    return { requestUri: REQUEST_URI_PREFIX + handle, expiresIn: this.options.ttl };
  }

  /**
   * /auth with request_uri (RFC 9126 §4): every parameter comes from the pushed request. For
   * clients that must push, anything beside client_id and request_uri is an error; for the
   * others it is ignored.
   */
  async resolve(params: RawParameters): Promise<AuthorizationRequest> {
    const page = (error: OAuthError) => new AuthorizationPageError(error);
    let clientId: string | undefined;
    let requestUri: string | undefined;
    try {
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
    if (requiresPushedRequests(client, this.options.required)) {
      const extra = Object.keys(params).filter((name) => name !== 'client_id' && name !== 'request_uri');
      if (extra.length > 0) {
        await this.complete(pushed.request);
        const { redirectUri, state } = pushed.request;
        throw new AuthorizationRedirectError(
          new InvalidRequest(`only client_id and request_uri are allowed with a pushed request (got ${extra.slice(0, 5).map((name) => name.slice(0, 40)).join(', ')})`),
          redirectUri,
          state,
        );
      }
    }
    return pushed.request;
  }

  /** The authorization finished (code issued or error returned): spend the request_uri. */
  async complete(request: AuthorizationRequest): Promise<void> {
    if (request.pushedHandle !== undefined) await this.store.delete(request.pushedHandle);
  }
}
