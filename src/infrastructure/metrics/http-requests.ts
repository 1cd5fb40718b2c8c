import type { Sample, ScrapedMetric } from './scraped.js';

/**
 * Upper bounds of the latency buckets, in seconds: a token response takes a fraction of a
 * millisecond, a login waits for bcrypt (about 250 ms at cost 12, seconds when the hashing queue
 * is long). Eleven buckets plus +Inf: 14 lines per route, method and status.
 */
export const DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.25, 0.5, 1, 2.5];

/** The route label of requests no route matched (404 from a not-found handler), whatever their URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The requests of one route, method and status: their count, and the latency histogram. */
class Series {
  count = 0;
  sum = 0;
  /** Observations per bucket (not cumulative; the +Inf bucket is `count`). */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length);

  constructor(readonly labels: { readonly route: string; readonly method: string; readonly status: number }) {}
}

/**
 * trusty_http_requests_total{route,method,status} and
 * trusty_http_request_duration_seconds{route,method,status} (issue 14: "per route and status"),
 * both read from one series per route, method and status kept as plain numbers: a request costs
 * three Map lookups (route and method are the same string objects every time, their hashes
 * cached; the status a small integer), two additions and a walk of at most eleven bounds;
 * nothing is allocated once a route, method and status have been seen. The labels are bounded:
 * routes are the patterns registered (never a raw URL), methods those Node's parser accepts,
 * statuses 100–599, and a route answers only a handful of statuses.
 */
export class HttpRequests {
  private readonly routes = new Map<string, Map<string, Map<number, Series>>>();

  /** One finished request; `seconds` is the time Fastify measured (reply.elapsedTime / 1000). */
  observe(route: string, method: string, status: number, seconds: number): void {
    let methods = this.routes.get(route);
    if (methods === undefined) {
      methods = new Map();
      this.routes.set(route, methods);
    }
    let statuses = methods.get(method);
    if (statuses === undefined) {
      statuses = new Map();
      methods.set(method, statuses);
    }
    let series = statuses.get(status);
    if (series === undefined) {
      series = new Series({ route, method, status });
      statuses.set(status, series);
    }
    series.count++;
    series.sum += seconds;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      if (seconds <= DURATION_BUCKETS[i]!) {
        series.buckets[i]!++;
        break;
      }
    }
  }

  readonly requests: ScrapedMetric = {
    name: 'trusty_http_requests_total',
    help: 'HTTP requests answered, by route pattern (route="unmatched" when no route matched), method and status code',
    type: 'counter',
    samples: () => {
      const samples: Sample[] = [];
      for (const series of this.all()) samples.push({ labels: series.labels, value: series.count });
      return samples;
    },
  };

  readonly duration: ScrapedMetric = {
    name: 'trusty_http_request_duration_seconds',
    help: 'Time from the request received to the response sent, by route pattern, method and status code, in seconds',
    type: 'histogram',
    samples: () => {
      const samples: Sample[] = [];
      const bucket = `${this.duration.name}_bucket`;
      for (const series of this.all()) {
        let cumulative = 0;
        for (let i = 0; i < DURATION_BUCKETS.length; i++) {
          cumulative += series.buckets[i]!;
          samples.push({ metricName: bucket, labels: { ...series.labels, le: DURATION_BUCKETS[i]! }, value: cumulative });
        }
        samples.push({ metricName: bucket, labels: { ...series.labels, le: '+Inf' }, value: series.count });
        samples.push({ metricName: `${this.duration.name}_sum`, labels: series.labels, value: series.sum });
        samples.push({ metricName: `${this.duration.name}_count`, labels: series.labels, value: series.count });
      }
      return samples;
    },
  };

  private *all(): Iterable<Series> {
    for (const methods of this.routes.values()) {
      for (const statuses of methods.values()) yield* statuses.values();
    }
  }
}
