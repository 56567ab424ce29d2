import { describe, expect, it } from 'vitest';
import { majorGcsPerRun } from './goals';
import type { Metric } from './lib/results';

const metric = (runs: number[], unit: string): Metric => ({
  median: runs.length ? [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]! : NaN,
  min: Math.min(...runs),
  max: Math.max(...runs),
  runs,
  unit,
});

describe('majorGcsPerRun', () => {
  it("pairs each run's p99 with the major GCs of the same run, in run order", () => {
    const text = majorGcsPerRun(metric([93.31, 12.04, 13.5], 'ms'), metric([1, 0, 2], 'count'));
    expect(text).toBe("; Herald's p99 in each run, with the major GCs its process made during the run: 93.3 ms (1), 12.0 ms (0), 13.5 ms (2)");
  });

  it('says nothing when the runs do not line up or one side is missing', () => {
    expect(majorGcsPerRun(metric([10, 11], 'ms'), metric([0], 'count'))).toBe('');
    expect(majorGcsPerRun(undefined, metric([0], 'count'))).toBe('');
    expect(majorGcsPerRun(metric([10], 'ms'), undefined)).toBe('');
    expect(majorGcsPerRun(metric([], 'ms'), metric([], 'count'))).toBe('');
  });
});
