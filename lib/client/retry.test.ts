import { describe, expect, it } from 'vitest';
import { fullJitterDelay, refusalKind, tokenRetryDelay } from './retry';

describe('refusalKind()', () => {
  it('sorts refusal codes into token, transient and final', () => {
    expect(refusalKind('unauthorized')).toBe('token');
    expect(refusalKind('token_expired')).toBe('token');
    expect(refusalKind('rate_limited')).toBe('transient');
    expect(refusalKind('slow_consumer')).toBe('transient');
    expect(refusalKind('too_many_connections')).toBe('final');
    expect(refusalKind('origin_not_allowed')).toBe('final');
    expect(refusalKind('something new')).toBe('final');
  });
});

describe('fullJitterDelay()', () => {
  it('draws from zero up to base · 2^attempt', () => {
    expect(fullJitterDelay(0, 1_000, 30_000, () => 0)).toBe(0);
    expect(fullJitterDelay(0, 1_000, 30_000, () => 0.5)).toBe(500);
    expect(fullJitterDelay(3, 1_000, 30_000, () => 0.5)).toBe(4_000);
    expect(fullJitterDelay(3, 1_000, 30_000, () => 0.999_999)).toBe(7_999);
  });

  it('never exceeds the cap, however many attempts', () => {
    for (const attempt of [5, 10, 31, 1_000, Number.MAX_SAFE_INTEGER]) {
      expect(fullJitterDelay(attempt, 1_000, 30_000, () => 0.999_999)).toBeLessThan(30_000);
    }
  });

  it('spreads delays over the whole window with Math.random', () => {
    const delays = Array.from({ length: 2_000 }, () => fullJitterDelay(4, 1_000, 30_000));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(16_000);
    // A uniform draw over [0, 16 s): both halves are well represented.
    const low = delays.filter((d) => d < 8_000).length;
    expect(low).toBeGreaterThan(800);
    expect(low).toBeLessThan(1_200);
  });
});

describe('tokenRetryDelay()', () => {
  it('doubles from one second up to ten', () => {
    expect([1, 2, 3, 4, 5, 6].map(tokenRetryDelay)).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });
});
