import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startTracing, tracingRequested } from './tracing.js';

describe('tracingRequested', () => {
  it.each<[NodeJS.ProcessEnv, boolean]>([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    // The standard switches off (OpenTelemetry SDK configuration).
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'false' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'otlp' }, true],
  ])('%o → %s', (env, expected) => {
    expect(tracingRequested(env)).toBe(expected);
  });
});

describe('startTracing', () => {
  it('without an endpoint: undefined, nothing started', async () => {
    expect(await startTracing({}, pino({ enabled: false }))).toBeUndefined();
  });
});
