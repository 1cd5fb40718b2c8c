import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors as joseErrors, type FetchImplementation, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { ClientKeys } from '../../application/ports/client-keys.js';
import type { Client } from '../../domain/client.js';

/** jwks_uri fetch limits: a slow or huge answer must not hold a token request. */
export const JWKS_URI_TIMEOUT_MS = 3000;
export const JWKS_URI_MAX_BYTES = 64 * 1024;
/** A kid not in the cached set triggers a refetch, at most once per cooldown. */
export const JWKS_URI_COOLDOWN_MS = 30_000;
/** The cached set is refetched after this long even when every kid is known. */
export const JWKS_URI_MAX_AGE_MS = 10 * 60_000;

/**
 * Client keys for private_key_jwt: a registered `jwks` becomes a local key set (jose imports
 * each key once and caches the CryptoKey); a `jwks_uri` becomes a remote key set fetched with
 * a timeout and a size limit, cached, refetched only for an unknown kid after a cooldown or once
 * older than JWKS_URI_MAX_AGE_MS.
 *
 * Sets are kept per Client object, in a WeakMap: the client repository builds a new Client
 * whenever its row changes (keys replaced or added, the same client_id made again) and keeps the
 * old object otherwise, so a set never outlives its keys, and a deleted client's set goes with
 * its object (nothing grows with every service account made and deleted). Any other change to a
 * jwks_uri client's row (its scope, say) costs one fetch of its keys.
 */
export class CachedClientKeys implements ClientKeys {
  private readonly sets = new WeakMap<Client, JWTVerifyGetKey>();

  keysOf(client: Client): JWTVerifyGetKey {
    let getKey = this.sets.get(client);
    if (getKey === undefined) {
      getKey = client.jwksUri !== undefined ? remoteSet(client.jwksUri) : createLocalJWKSet((client.jwks ?? { keys: [] }) as JSONWebKeySet);
      this.sets.set(client, getKey);
    }
    return getKey;
  }
}

function remoteSet(uri: string): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(uri), {
    timeoutDuration: JWKS_URI_TIMEOUT_MS,
    cooldownDuration: JWKS_URI_COOLDOWN_MS,
    cacheMaxAge: JWKS_URI_MAX_AGE_MS,
    [customFetch]: limitedFetch(JWKS_URI_MAX_BYTES),
  });
}

/** fetch that refuses a body over `maxBytes` (jose's own fetch reads any size). */
function limitedFetch(maxBytes: number): FetchImplementation {
  const tooLarge = () => new joseErrors.JWKSInvalid(`the jwks_uri answer is larger than ${maxBytes} bytes`);
  return async (url, options) => {
    let response: Response;
    try {
      response = await fetch(url, options);
    } catch (error) {
      if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') throw error;
      throw new joseErrors.JOSEError('the jwks_uri could not be fetched');
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body !== null) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > maxBytes) throw tooLarge();
        chunks.push(chunk);
      }
    }
    return new Response(Buffer.concat(chunks), { status: response.status, headers: response.headers });
  };
}
