import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { SECURITY_HEADERS } from './plugins/security-headers.js';

/** A JSON document's response: its headers and bytes, built once. */
export interface StaticDocument {
  readonly body: Buffer;
  /** Every header of the response, security headers included, as [name, value] pairs. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The same headers flattened, as node's writeHead takes them. */
  readonly rawHeaders: readonly string[];
}

/** A document whose value may change while the server runs (the JWKS, after a key rotation). */
export interface LiveDocument {
  current(): StaticDocument;
}

export type ServedDocument = StaticDocument | LiveDocument;

/** How long relying parties and resource servers may cache discovery and the JWKS. */
export const DOCUMENT_MAX_AGE_SECONDS = 300;

export function staticDocument(value: unknown): StaticDocument {
  const body = Buffer.from(JSON.stringify(value));
  const headers: Array<readonly [string, string]> = [
    ['content-type', 'application/json; charset=utf-8'],
    ['cache-control', `public, max-age=${DOCUMENT_MAX_AGE_SECONDS}`],
    ['content-length', String(body.length)],
    ...Object.entries(SECURITY_HEADERS),
  ];
  return { body, headers, rawHeaders: headers.flat() };
}

/**
 * A document built from `source()` and built again only when `source()` returns another object:
 * each request costs one call and one identity comparison, and a change swaps the prebuilt
 * response at once (a request gets the old bytes or the new, never a mix).
 */
export function liveDocument(source: () => object): LiveDocument {
  let value = source();
  let document = staticDocument(value);
  return {
    current() {
      const now = source();
      if (now !== value) {
        value = now;
        document = staticDocument(now);
      }
      return document;
    },
  };
}

function currentOf(document: ServedDocument): () => StaticDocument {
  return 'current' in document ? () => document.current() : () => document;
}

/** Counts the documents answered on the fast path (the metrics' HttpRequests); `seconds` until the response was handed to the socket. */
export interface ServedObserver {
  observe(route: string, method: string, status: number, seconds: number): void;
}

/**
 * The discovery document and the JWKS, answered by node's HTTP server before Fastify sees the
 * request: every relying party and resource server fetches them and their answer is prebuilt, so
 * routing, hooks and the reply object would be all of the work. Only an exact path with GET or
 * HEAD is answered here (a query string, another method or a server that is closing goes on to
 * Fastify, whose routes send the same documents); the headers are those the Fastify routes
 * send, security headers included.
 */
export class StaticDocuments {
  private readonly byPath = new Map<string, () => StaticDocument>();
  private closing = false;

  constructor(
    documents: Record<string, ServedDocument>,
    /** Told of each answer given here, as the Fastify routes' are (trusty_http_requests_total; src/infrastructure/metrics). */
    private readonly served?: ServedObserver,
  ) {
    for (const [path, document] of Object.entries(documents)) this.byPath.set(path, currentOf(document));
  }

  /** Answers the request if it asks for one of the documents; false otherwise. */
  serve(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.closing || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
    const current = this.byPath.get(request.url ?? '');
    if (current === undefined) return false;
    const start = this.served === undefined ? 0 : performance.now();
    const document = current();
    response.writeHead(200, document.rawHeaders as string[]);
    // For HEAD, node's response writes the headers and drops the body.
    response.end(document.body);
    // The route label is the path itself: only the exact paths of the documents reach here.
    this.served?.observe(request.url!, request.method, 200, (performance.now() - start) / 1000);
    return true;
  }

  /** From now on Fastify answers every request (with 503 while it closes). */
  close(): void {
    this.closing = true;
  }
}

/** The Fastify route of each document, for requests the fast path passes on (and app.inject). */
export async function staticDocumentRoutes(app: FastifyInstance, { documents }: { documents: Record<string, ServedDocument> }) {
  for (const [path, served] of Object.entries(documents)) {
    const current = currentOf(served);
    app.get(path, (_request, reply) => {
      const document = current();
      for (const [name, value] of document.headers) reply.header(name, value);
      return reply.send(document.body);
    });
  }
}

/**
 * Node's HTTP server with the documents' fast path in front of Fastify's handler, and the
 * timeouts Fastify would have set on a server of its own.
 */
export function serverWithStaticDocuments(documents: StaticDocuments, options: Pick<FastifyServerOptions, 'keepAliveTimeout' | 'requestTimeout' | 'connectionTimeout'>) {
  return (handler: (request: IncomingMessage, response: ServerResponse) => void): Server => {
    const server = createServer((request, response) => {
      if (!documents.serve(request, response)) handler(request, response);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout ?? 0);
    return server;
  };
}
