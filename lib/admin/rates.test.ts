import { describe, expect, it } from 'vitest';
import { quantileMs, RateHistory, type Buckets } from './rates';

const buckets = (counts: number[], les = [0.001, 0.01, 0.1, Infinity]): Buckets => les.map((le, i) => ({ le, count: counts[i] ?? 0 }));

describe('quantileMs', () => {
  it('interpolates within the bucket that holds the rank, as histogram_quantile does', () => {
    // 10 in (0, 1 ms], 10 more in (1, 10 ms]: the median is the top of the first bucket, p75 half-way through the second.
    expect(quantileMs(0.5, buckets([10, 20, 20, 20]))).toBeCloseTo(1);
    expect(quantileMs(0.75, buckets([10, 20, 20, 20]))).toBeCloseTo(5.5);
  });

  it('answers null for no observations, and the last finite bound past it', () => {
    expect(quantileMs(0.99, buckets([0, 0, 0, 0]))).toBeNull();
    expect(quantileMs(0.99, buckets([0, 0, 1, 10]))).toBeCloseTo(100);
  });
});

describe('RateHistory', () => {
  it('turns counter totals into per-second rates and per-window percentiles, keeping the newest points', () => {
    const h = new RateHistory(2);
    h.sample(0, 100, buckets([5, 5, 5, 5]));
    expect(h.list()).toEqual([]);
    h.sample(2_000, 110, buckets([5, 5, 5, 5]));
    expect(h.latest()).toEqual({ t: 2_000, pushesPerSecond: 5, lagP50: null, lagP99: null });
    h.sample(4_000, 130, buckets([15, 15, 15, 15]));
    h.sample(6_000, 130, buckets([15, 15, 15, 15]));
    expect(h.list().map((p) => p.t)).toEqual([4_000, 6_000]);
    expect(h.list()[0]).toMatchObject({ pushesPerSecond: 10, lagP50: expect.closeTo(0.5, 5) });
  });

  it('reads a counter that went back (a restart) as no pushes, not a negative rate', () => {
    const h = new RateHistory(5);
    h.sample(0, 100, buckets([0, 0, 0, 0]));
    h.sample(1_000, 3, buckets([0, 0, 0, 0]));
    expect(h.latest()?.pushesPerSecond).toBe(0);
  });
});
