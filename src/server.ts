import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import { ConfigError, configPath, issuerPortMismatch, loadConfig } from './config/load.js';
import { createTrusty } from './container.js';
import { createLogger } from './infrastructure/logger.js';
import { startTracing, type RequestTracing } from './infrastructure/tracing.js';

/** Exit codes: 0 clean stop, 1 failure at start, 2 invalid configuration. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(configPath());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`trusty: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const destination = pino.destination({ sync: false });
  const log = createLogger(config.log_level, destination);
  // Asynchronous logging is fast; this makes sure the last lines are written before exit,
  // including a write already in progress. flush(cb) does not: with pino's default minLength
  // of 0 it calls back at once, and the 'stopped' line was sometimes cut off. end() writes
  // what is buffered, waits for the write in flight, and emits 'close' after.
  const exit = (code: number): void => {
    const done = () => process.exit(code);
    setTimeout(done, 2000); // a stuck stdout must not keep the process alive
    try {
      destination.once('close', done);
      destination.end();
    } catch {
      done(); // the destination is already closed: nothing to write
    }
  };
  log.info({ config: config.source, issuer: config.issuer }, 'starting');
  const mismatch = issuerPortMismatch(config);
  if (mismatch !== undefined) log.warn({ issuer: config.issuer, port: config.port }, mismatch);
  const trusty = await createTrusty(config, log);
  // OpenTelemetry only when OTEL_EXPORTER_OTLP_ENDPOINT is set: otherwise nothing is loaded and
  // no hook is added (docs/observability.md). A tracer that cannot start leaves the server serving.
  const tracing: RequestTracing | undefined = await startTracing(process.env, log).catch((error: unknown) => {
    log.error({ err: error }, 'could not start tracing; serving without it');
    return undefined;
  });
  let app: FastifyInstance;
  let stopping = false;
  try {
    app = await buildApp(tracing === undefined ? trusty.deps : { ...trusty.deps, tracing }, log);
    // While stopping, answers close their connection: a keep-alive client would otherwise hold
    // the server open until the shutdown deadline.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (stopping) reply.header('connection', 'close');
      done(null, payload);
    });
    app.addHook('onClose', async () => trusty.close());
    // The spans of the last requests are sent before exit (within TRACING_SHUTDOWN_MS).
    if (tracing !== undefined) app.addHook('onClose', async () => tracing.shutdown());
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    log.fatal({ err: error }, 'could not start');
    process.stderr.write(`trusty: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    await trusty.close();
    await tracing?.shutdown();
    exit(1);
    return;
  }

  // Contract: stop accepting, finish in-flight requests, close the database, exit 0.
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // shutdown.drain_seconds bounds the drain: a stuck request must not hold a deploy.
    const drain = config.shutdown.drain_seconds;
    const force = setTimeout(() => {
      log.error({ drain_seconds: drain }, `in-flight requests did not finish within ${drain} s; exiting`);
      exit(1);
    }, drain * 1000);
    force.unref();
    app.close().then(
      () => {
        log.info('stopped');
        exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`trusty: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
