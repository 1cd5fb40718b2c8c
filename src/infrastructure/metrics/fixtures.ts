import type { MetricSources } from './registry.js';

/** Gauge sources that read nothing: the unit tests of this folder start from them. */
export const IDLE_SOURCES: MetricSources = {
  now: () => 1_700_000_000,
  activeSessions: async () => 0,
  pendingPushedRequests: () => 0,
  replayCache: () => ({ size: 0, capacity: 1 }),
  signingKeys: async () => [],
  passwordHashQueue: () => 0,
};

/** The samples of one metric in a text exposition: `name{labels} value` lines. */
export function samplesOf(text: string, name: string): Array<{ labels: string; value: number }> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const space = line.lastIndexOf(' ');
      return { labels: line.slice(name.length, space), value: Number(line.slice(space + 1)) };
    });
}
