import type { Metric, Registry } from 'prom-client';

/** One line of the exposition: labels and value, under `metricName` when it differs (`_bucket`, `_sum`, `_count`). */
export interface Sample {
  readonly metricName?: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

export interface ScrapedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  /** Called at each scrape only: turns the plain numbers kept on the hot path into samples. */
  samples(): Sample[];
}

/**
 * Registers a metric whose numbers are kept in plain fields by its owner and read only when
 * scraped. prom-client's own Counter and Histogram hash their label values into a string key at
 * every inc() and observe() (about 0.6 µs for one of each, measured: bench/metrics-hook.ts); the
 * request and token counters run on every token request, so they keep numbers in objects found
 * by Map lookups instead. The registry renders any registered object as it renders its own
 * metrics: it reads name, help and type and awaits get() for the values (prom-client's
 * MetricObjectWithValues, the shape its own get() returns), and calls reset() from
 * resetMetrics(); that is all this object has.
 */
export function registerScraped(registry: Registry, metric: ScrapedMetric): void {
  const { name, help, type } = metric;
  const collector = {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    async get() {
      return { name, help, type, aggregator: 'sum' as const, values: metric.samples() };
    },
    // Counters only go up while the process lives (a restart is how Prometheus sees a reset).
    reset() {},
  };
  registry.registerMetric(collector as unknown as Metric);
}
