import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { HttpDeps } from './http/deps.js';
import { errorHandlerPlugin } from './http/plugins/error-handler.js';
import { clientErrorHandler, frameworkErrors } from './http/client-error.js';
import { DebugRequestLog } from './http/plugins/access-log.js';
import { pageHelmetOptions, securityHeadersPlugin } from './http/plugins/security-headers.js';
import fastifyHelmet from '@fastify/helmet';
import { rateLimitPlugin } from './http/plugins/rate-limit.js';
import { untrustedForwardedForWarning } from './http/forwarded-for-warning.js';
import { viewsPlugin } from './http/plugins/views.js';
import { assetRoutes } from './http/routes/assets.js';
import { authorizeRoutes } from './http/routes/authorize.js';
import { consentRoutes } from './http/routes/consent.js';
import { discoveryDocuments } from './http/routes/discovery.js';
import { healthRoutes } from './http/routes/health.js';
import { metricsRoutes, requestMetricsPlugin } from './http/routes/metrics.js';
import { interactionRoutes } from './http/routes/interaction.js';
import { jwksDocuments } from './http/routes/jwks.js';
import { loginRoutes } from './http/routes/login.js';
import { introspectRoutes } from './http/routes/introspect.js';
import { logoutRoutes } from './http/routes/logout.js';
import { parRoutes } from './http/routes/par.js';
import { revokeRoutes } from './http/routes/revoke.js';
import { tokenRoutes } from './http/routes/token.js';
import { userinfoRoutes } from './http/routes/userinfo.js';
import { ADMIN_PREFIX, adminPlugin } from './http/admin/plugin.js';
import { OBSERVABILITY_PREFIX, observabilityRoutes } from './http/routes/observability.js';
import { requestTracingPlugin } from './http/plugins/request-tracing.js';
import { serverWithStaticDocuments, StaticDocuments, staticDocumentRoutes } from './http/static-documents.js';

/** Every request body is a small form; larger bodies get 413 invalid_request. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** Builds the HTTP application: external plugins, then ours, then one route file per endpoint. */
export async function buildApp(deps: HttpDeps, logger: Logger): Promise<FastifyInstance> {
  const documents = { ...discoveryDocuments(deps), ...jwksDocuments(deps) };
  // Discovery and the JWKS answered before Fastify are counted with the other requests.
  const fastPath = new StaticDocuments(documents, deps.metrics?.http);
  const timeouts = { requestTimeout: 30_000, keepAliveTimeout: 72_000, connectionTimeout: 0 };
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    // Requests Node's parser refuses get the contract's JSON error too (http/client-error.ts).
    clientErrorHandler,
    frameworkErrors,
    // Per-request lines at debug level, not info (plugins/access-log.ts).
    logController: new DebugRequestLog(),
    ...timeouts,
    serverFactory: serverWithStaticDocuments(fastPath, timeouts),
    routerOptions: { maxParamLength: 128, ignoreTrailingSlash: false },
    // X-Forwarded-For/-Proto are believed from the configured proxies only (proxy-addr walks the
    // chain from the socket back to the first address that is not one of them); never by default.
    trustProxy: deps.trustProxy.length > 0 ? [...deps.trustProxy] : false,
  });

  // Only application/x-www-form-urlencoded bodies exist in OAuth/OIDC requests: anything else
  // (JSON included) is refused with 400 invalid_request by the error handler.
  app.removeAllContentTypeParsers();
  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT_BYTES });
  await app.register(viewsPlugin);
  await app.register(securityHeadersPlugin, { issuer: deps.issuer });
  await app.register(errorHandlerPlugin, { issuer: deps.issuer });
  // Before the routes, so that each inherits its one onResponse hook (docs/metrics.md).
  if (deps.metrics !== undefined) await app.register(requestMetricsPlugin, { metrics: deps.metrics });
  // Likewise one onResponse hook, only when tracing is on (docs/observability.md).
  if (deps.tracing !== undefined) await app.register(requestTracingPlugin, { tracing: deps.tracing, trustProxy: deps.trustProxy });
  // Before the routes: it adds its onRequest hooks to those that name a budget (config.addressLimit).
  if (deps.addressLimits !== undefined) await app.register(rateLimitPlugin, deps.addressLimits);
  // X-Forwarded-For with trust_proxy empty: a proxy nobody listed, said once (src/http/forwarded-for-warning.ts).
  const warnOfForwardedFor = deps.trustProxy.length === 0 ? untrustedForwardedForWarning(app.log) : undefined;
  // A change the CLI or another server made is seen by the next request (src/infrastructure/sqlite/control-version.ts).
  app.addHook('onRequest', (request, _reply, done) => {
    deps.changes.poll();
    warnOfForwardedFor?.(request);
    done();
  });

  await app.register(healthRoutes, { deps });
  await app.register(metricsRoutes, { deps });
  await app.register(assetRoutes);
  await app.register(staticDocumentRoutes, { documents });
  app.addHook('preClose', (done) => {
    fastPath.close();
    done();
  });
  // The browser's pages, the only routes with cookies: API endpoints skip the cookie hook.
  await app.register(async (pages) => {
    // Helmet's headers on the pages only: the API endpoints keep the few static ones above.
    await pages.register(fastifyHelmet, pageHelmetOptions(deps.issuer));
    await pages.register(fastifyCookie);
    await pages.register(authorizeRoutes, { deps });
    await pages.register(interactionRoutes, { deps });
    await pages.register(loginRoutes, { deps });
    await pages.register(consentRoutes, { deps });
    await pages.register(logoutRoutes, { deps });
  });
  await app.register(parRoutes, { deps });
  await app.register(tokenRoutes, { deps });
  await app.register(revokeRoutes, { deps });
  await app.register(introspectRoutes, { deps });
  await app.register(userinfoRoutes, { deps });
  await app.register(adminPlugin, { deps, prefix: ADMIN_PREFIX });
  await app.register(observabilityRoutes, { deps, prefix: OBSERVABILITY_PREFIX });
  return app;
}
