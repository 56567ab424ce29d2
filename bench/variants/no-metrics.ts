/**
 * prom-client with nothing behind it, for the benchmark's "metrics off" build of
 * Herald (bench/variants.ts) and nowhere else: every metric accepts its updates
 * and keeps nothing, no default metrics are collected (no event-loop monitor, no
 * GC observer), and a scrape is empty. Only what Herald calls is here.
 */

interface MetricValues {
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
}

class NoMetric {
  constructor(_config: unknown) {}
  inc(): void {}
  dec(): void {}
  set(): void {}
  observe(): void {}
  reset(): void {}
  labels(): this {
    return this;
  }
  startTimer(): () => number {
    return () => 0;
  }
  get(): Promise<MetricValues> {
    return Promise.resolve({ values: [] });
  }
}

export class Counter extends NoMetric {}
export class Gauge extends NoMetric {}
export class Histogram extends NoMetric {}

export class Registry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  metrics(): Promise<string> {
    return Promise.resolve('');
  }
  registerMetric(): void {}
}

export function collectDefaultMetrics(): void {}
