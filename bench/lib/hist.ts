/**
 * A latency histogram with 1 % wide logarithmic buckets over microseconds: cheap to
 * record millions of samples into, mergeable across processes, percentiles within
 * 1 %. The exact maximum is kept on the side.
 */

/** Relative width of one bucket. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** 1 µs … ~100 s. */
const BUCKETS = Math.ceil(Math.log(1e8) / LOG_GROWTH) + 1;

export interface HistogramJson {
  /** Sparse [bucket, count] pairs. */
  buckets: Array<[number, number]>;
  count: number;
  maxUs: number;
  sumUs: number;
}

export class Histogram {
  private counts = new Float64Array(BUCKETS);
  count = 0;
  maxUs = 0;
  sumUs = 0;

  record(us: number): void {
    const v = us < 1 ? 1 : us;
    let i = Math.floor(Math.log(v) / LOG_GROWTH);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count++;
    this.sumUs += v;
    if (v > this.maxUs) this.maxUs = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.maxUs = 0;
    this.sumUs = 0;
  }

  /** The value (µs) below which `p` (0..1) of the samples fall; upper edge of the bucket, capped by the max. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(Math.pow(GROWTH, i + 1), this.maxUs);
    }
    return this.maxUs;
  }

  toJSON(): HistogramJson {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i] ?? 0;
      if (c > 0) buckets.push([i, c]);
    }
    return { buckets, count: this.count, maxUs: this.maxUs, sumUs: this.sumUs };
  }

  merge(other: HistogramJson): void {
    for (const [i, c] of other.buckets) this.counts[i] = (this.counts[i] ?? 0) + c;
    this.count += other.count;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  static from(json: HistogramJson): Histogram {
    const h = new Histogram();
    h.merge(json);
    return h;
  }
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export function summarize(h: Histogram): LatencySummary {
  return {
    count: h.count,
    p50Ms: h.percentile(0.5) / 1000,
    p99Ms: h.percentile(0.99) / 1000,
    maxMs: h.maxUs / 1000,
    meanMs: h.count > 0 ? h.sumUs / h.count / 1000 : NaN,
  };
}
