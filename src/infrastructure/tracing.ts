/**
 * OpenTelemetry traces of the HTTP requests (docs/observability.md), only when an OTLP endpoint
 * is configured (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Otherwise
 * startTracing returns undefined without loading a single OpenTelemetry module, and the HTTP
 * layer registers no hook: a server without tracing pays nothing for it. The packages are loaded
 * with import() and left out of the bundle (scripts/bundle.mjs) for the same reason.
 *
 * The SDK reads the standard variables itself: OTEL_SERVICE_NAME (default here: trusty),
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*, OTEL_EXPORTER_OTLP_(TRACES_)
 * ENDPOINT, _HEADERS, _TIMEOUT, _COMPRESSION, OTEL_SPAN_ATTRIBUTE_*; OTEL_SDK_DISABLED=true and
 * OTEL_TRACES_EXPORTER=none turn tracing off. Spans go as OTLP/HTTP JSON (the http/json protocol).
 */
import type { Link } from '@opentelemetry/api';
import type { Logger } from 'pino';

/** One finished request, as the HTTP layer saw it (src/http/plugins/request-tracing.ts). */
export interface RequestSpan {
  readonly method: string;
  /** The route pattern (`/interaction/:id/login`), never the URL; undefined when no route matched. */
  readonly route: string | undefined;
  readonly status: number;
  readonly scheme: string;
  /** Epoch milliseconds (fractional). */
  readonly startMs: number;
  readonly endMs: number;
  /** OAuth endpoints: a grant type the server knows, and the client_id the request names. */
  readonly grantType?: string | undefined;
  readonly clientId?: string | undefined;
  /** The OAuth error code answered (invalid_client), or the status of a 5xx. */
  readonly errorType?: string | undefined;
  /** The caller's W3C Trace Context headers, if it sent them. */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
  /**
   * Whether those headers came through a trusted proxy (the socket's address is in trust_proxy):
   * only then does the span continue the caller's trace. Anyone can send a traceparent: believed
   * from anyone, it would let an unauthenticated caller force sampling on (load) or off (hiding
   * its requests), or put this server's spans in a trace of its choosing. Otherwise the span
   * starts a trace of its own, linked to the caller's context, which is kept for debugging.
   */
  readonly traceContextTrusted?: boolean | undefined;
}

export interface RequestTracing {
  /** Records a finished request as one SERVER span; never throws. */
  record(span: RequestSpan): void;
  /** Sends the spans still waiting, within TRACING_SHUTDOWN_MS. */
  shutdown(): Promise<void>;
}

/** The default service.name (OTEL_SERVICE_NAME overrides it). */
export const DEFAULT_SERVICE_NAME = 'trusty';
/** Shutdown waits at most this long for the last spans to be sent (a collector that is down must not hold the stop). */
export const TRACING_SHUTDOWN_MS = 3000;

/** Whether `env` asks for traces (an OTLP endpoint, not disabled by the standard variables). */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined || endpoint.trim() === '') return false;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() !== 'none';
}

/**
 * Starts the tracer provider when `env` asks for traces, else returns undefined having loaded
 * nothing. The SDK reads its settings from process.env.
 */
export async function startTracing(env: NodeJS.ProcessEnv, log: Logger): Promise<RequestTracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  const [api, core, sdk, otlp, resources, semconv] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  // The SDK's own failures (a collector that refuses or is down) in the server's log, at warn.
  const warn = (message: string) => log.warn({ component: 'opentelemetry' }, message);
  const quiet = () => undefined;
  api.diag.setLogger({ error: warn, warn, info: quiet, debug: quiet, verbose: quiet }, api.DiagLogLevel.WARN);

  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ [semconv.ATTR_SERVICE_NAME]: DEFAULT_SERVICE_NAME }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the default.
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new sdk.BasicTracerProvider({ resource, spanProcessors: [new sdk.BatchSpanProcessor(new otlp.OTLPTraceExporter())] });
  const tracer = provider.getTracer('trusty');
  const propagator = new core.W3CTraceContextPropagator();
  const serviceName = String(resource.attributes[semconv.ATTR_SERVICE_NAME]);
  let failures = 0;
  log.info({ service_name: serviceName, endpoint: originOf(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT!) }, 'tracing requests with OpenTelemetry');

  return {
    record(span) {
      try {
        const attributes: Record<string, string | number> = {
          [semconv.ATTR_HTTP_REQUEST_METHOD]: span.method,
          [semconv.ATTR_HTTP_RESPONSE_STATUS_CODE]: span.status,
          [semconv.ATTR_URL_SCHEME]: span.scheme,
        };
        if (span.route !== undefined) attributes[semconv.ATTR_HTTP_ROUTE] = span.route;
        if (span.grantType !== undefined) attributes['oauth.grant_type'] = span.grantType;
        if (span.clientId !== undefined) attributes['oauth.client_id'] = span.clientId;
        if (span.errorType !== undefined) attributes[semconv.ATTR_ERROR_TYPE] = span.errorType;
        // W3C Trace Context: a trusted caller's trace goes on through this span; an untrusted
        // caller's is only linked (OpenTelemetry HTTP semantic conventions: "if the incoming
        // context is not trusted, start a new trace and add a link"); a malformed header is ignored.
        let parent = api.ROOT_CONTEXT;
        let links: Link[] | undefined;
        if (span.traceparent !== undefined) {
          const caller = propagator.extract(api.ROOT_CONTEXT, { traceparent: span.traceparent, tracestate: span.tracestate }, api.defaultTextMapGetter);
          const context = api.trace.getSpanContext(caller);
          if (context !== undefined && api.isSpanContextValid(context)) {
            if (span.traceContextTrusted === true) parent = caller;
            else links = [{ context }];
          }
        }
        // Semantic conventions for HTTP server spans: "{method} {route}", or the method alone.
        const name = span.route === undefined ? span.method : `${span.method} ${span.route}`;
        const otelSpan = tracer.startSpan(name, { kind: api.SpanKind.SERVER, startTime: span.startMs, attributes, links }, parent);
        // A server span is an error for a 5xx only: a 4xx is the caller's.
        if (span.status >= 500) otelSpan.setStatus({ code: api.SpanStatusCode.ERROR });
        otelSpan.end(span.endMs);
      } catch (error) {
        // Tracing must never fail a request; said once per thousand failures, not for each.
        if (failures++ % 1000 === 0) log.warn({ err: error, failures }, 'recording a trace span failed');
      }
    },
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          log.warn({ timeout_ms: TRACING_SHUTDOWN_MS }, 'the last trace spans were not sent in time');
          resolve();
        }, TRACING_SHUTDOWN_MS);
      });
      await Promise.race([provider.shutdown().catch((error: unknown) => log.warn({ err: error }, 'sending the last trace spans failed')), deadline]);
      clearTimeout(timer);
    },
  };
}

/** The endpoint as logged: its origin only (a URL may carry credentials in its user info or query). */
function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return '(not a URL)';
  }
}
