import 'server-only';
import type { AdminRatePoint } from '../contract';

/**
 * The rates chart's data: a ring buffer of sample windows, each the change in
 * Prometheus' own counters since the last sample (accepted pushes, and the
 * delivery-lag histogram's buckets). Reading the registry every few seconds
 * costs the push and delivery paths nothing; the percentiles are interpolated
 * within buckets, as Prometheus' histogram_quantile does.
 */

/** A histogram's cumulative bucket counts, by upper bound in seconds (+Inf last). */
export type Buckets = Array<{ le: number; count: number }>;

export class RateHistory {
  private readonly points: AdminRatePoint[] = [];
  private last: { pushes: number; buckets: Buckets; t: number } | undefined;

  constructor(private readonly capacity: number) {}

  /** Records one sample: the counters' current totals at time `t`. The first sample only sets the baseline. */
  sample(t: number, pushesTotal: number, lag: Buckets): void {
    const prev = this.last;
    this.last = { pushes: pushesTotal, buckets: lag, t };
    if (!prev || t <= prev.t) return;
    const delta = lag.map((b, i) => ({ le: b.le, count: Math.max(0, b.count - (prev.buckets[i]?.count ?? 0)) }));
    this.points.push({
      t,
      pushesPerSecond: Math.max(0, pushesTotal - prev.pushes) / ((t - prev.t) / 1000),
      lagP50: quantileMs(0.5, delta),
      lagP99: quantileMs(0.99, delta),
    });
    if (this.points.length > this.capacity) this.points.shift();
  }

  /** Oldest first. */
  list(): AdminRatePoint[] {
    return [...this.points];
  }

  latest(): AdminRatePoint | undefined {
    return this.points.at(-1);
  }
}

/** The q-quantile in ms of cumulative bucket counts (seconds); null when empty. */
export function quantileMs(q: number, buckets: Buckets): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      // Past the last finite bound nothing is known but that it is larger: report that bound.
      if (!Number.isFinite(le)) return lowerLe * 1000;
      const inBucket = count - lowerCount;
      const fraction = inBucket === 0 ? 1 : (rank - lowerCount) / inBucket;
      return (lowerLe + (le - lowerLe) * fraction) * 1000;
    }
    lowerLe = le;
    lowerCount = count;
  }
  return lowerLe * 1000;
}
