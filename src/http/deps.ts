import type { AuthorizationService } from '../application/authorize/authorization-service.js';
import type { PushedRequests } from '../application/authorize/pushed-requests.js';
import type { DpopVerifier } from '../application/services/dpop-verifier.js';
import type { IdTokenHints } from '../application/services/id-token-hint.js';
import type { LogoutService } from '../application/services/logout-service.js';
import type { TokenStatus } from '../application/services/token-status.js';
import type { GrantDeps } from '../application/grants/grant.js';
import type { KeyStore } from '../application/ports/key-store.js';
import type { ClientRepository, InteractionRepository, UserRepository } from '../application/ports/repositories.js';
import type { AccessTokenVerifier } from '../application/services/access-token-verifier.js';
import type { ClientAuthenticator } from '../application/services/client-authenticator.js';
import type { FailedClientAuthLog } from '../application/services/failed-client-auth.js';
import type { SessionService } from '../application/services/session-service.js';
import type { Clock } from '../application/ports/clock.js';
import type { ControlPlane } from '../application/admin/control-plane.js';
import type { Observability } from '../application/admin/observability.js';
import type { RequestTracing } from '../infrastructure/tracing.js';
import type { TrustyMetrics } from '../infrastructure/metrics/registry.js';
import type { AddressLimits } from './plugins/rate-limit.js';

export interface ReadinessReport {
  readonly ready: boolean;
  /** Each check's 'ok', or why not. */
  readonly checks: Readonly<Record<string, string>>;
}

/** What the HTTP layer needs; built by src/container.ts, or by a test. */
export interface HttpDeps {
  readonly issuer: string;
  /** The management API's services (src/http/admin). */
  readonly control: ControlPlane;
  /** GET /observability/* (docs/observability.md): summaries of sessions, token events and clients. */
  readonly observability: Observability;
  /** One OpenTelemetry span per request, set by src/server.ts when OTEL_EXPORTER_OTLP_ENDPOINT is (docs/observability.md); undefined: no hook at all. */
  readonly tracing?: RequestTracing | undefined;
  /** GET /metrics and what it counts (docs/metrics.md); undefined when metrics.enabled is false: nothing counted, no route. */
  readonly metrics: TrustyMetrics | undefined;
  /** Polled on every request, so a change made by the CLI or another server is seen at once. */
  readonly changes: { poll(): void };
  readonly secureCookies: boolean;
  readonly sessionTtl: number;
  readonly interactionTtl: number;
  readonly clock: Clock;
  readonly clients: ClientRepository;
  readonly users: UserRepository;
  readonly interactions: InteractionRepository;
  readonly keys: KeyStore;
  readonly sessions: SessionService;
  readonly authorization: AuthorizationService;
  readonly authenticator: ClientAuthenticator;
  /** Records refused client authentication, bounded (src/application/services/failed-client-auth.ts). */
  readonly failedClientAuth: FailedClientAuthLog;
  readonly pushed: PushedRequests;
  readonly tokenStatus: TokenStatus;
  readonly logout: LogoutService;
  /** id_token_hint verification, shared by /auth, /par and /logout. */
  readonly idTokenHints: IdTokenHints;
  readonly dpop: DpopVerifier;
  readonly accessTokens: AccessTokenVerifier;
  readonly grants: GrantDeps;
  /** Per-address limits (src/http/plugins/rate-limit.ts); none when rate_limits.enabled is false (nothing registered). */
  readonly addressLimits?: AddressLimits | undefined;
  /** The discovery metadata: the same object until a client change rebuilds it (clients' custom scopes are in scopes_supported). */
  discovery(): Record<string, unknown>;
  /** True once migrations ran, keys are loaded and config is seeded (contract: /health). */
  isReady(): boolean;
  /** /health/ready: whether this server can serve now (database reachable, schema current, keys loaded), and why not. */
  readiness(): ReadinessReport;
  /** trust_proxy: the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (none: never). */
  readonly trustProxy: readonly string[];

}
