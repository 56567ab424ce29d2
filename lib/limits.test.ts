import { describe, expect, it } from 'vitest';
import { KeyedRateLimit, ReplayMemory, TokenBucket } from './limits';

describe('ReplayMemory', () => {
  it('never accepts a signature twice while its timestamp is valid, at 700 signed pushes per second across the window', () => {
    const WINDOW = 300;
    const CAPACITY = 200_000;
    const RATE = 700;
    let nowMs = 1_700_000_000_000;
    const memory = new ReplayMemory(WINDOW, CAPACITY, () => nowMs);
    let accepted = 0;
    /** One accepted key per timestamp second, for the replays. */
    const acceptedAt = new Map<number, string>();
    let full = 0;
    let replaysAccepted = 0;
    // Two whole windows: the memory fills, then entries expire while new ones arrive.
    for (let second = 0; second < 2 * WINDOW + 60; second++) {
      const ts = Math.floor(nowMs / 1000);
      for (let i = 0; i < RATE; i++) {
        const key = `sig-${second}-${i}`;
        const answer = memory.claim(key, ts);
        if (answer.status === 'new') {
          accepted++;
          if (!acceptedAt.has(ts)) acceptedAt.set(ts, key);
        }
        else if (answer.status === 'full') {
          full++;
          expect(answer.retryAfterSeconds).toBeGreaterThanOrEqual(1);
          expect(answer.retryAfterSeconds).toBeLessThanOrEqual(WINDOW + 2);
        } else throw new Error(`a fresh key was called a replay at second ${second}`);
      }
      // An attacker replays captured requests of every age that is still inside the window.
      for (const age of [1, 60, 150, 240, 290, 299, 300]) {
        const victim = acceptedAt.get(ts - age);
        if (victim !== undefined && memory.claim(victim, ts - age).status !== 'replay') replaysAccepted++;
      }
      expect(memory.size).toBeLessThanOrEqual(CAPACITY);
      nowMs += 1000;
    }
    expect(replaysAccepted).toBe(0);
    // 700/s for 301 s is more than the capacity: some were refused (429), never forgotten early.
    expect(full).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(RATE * WINDOW);
  });

  it('forgets a signature once its timestamp can no longer pass the window check', () => {
    let nowMs = 1_000_000_000;
    const memory = new ReplayMemory(300, 10, () => nowMs);
    const ts = nowMs / 1000 - 100;
    expect(memory.claim('a', ts).status).toBe('new');
    nowMs += 200_000; // ts + 300: still valid
    expect(memory.claim('a', ts).status).toBe('replay');
    nowMs += 1_000; // ts + 301: the window check refuses it before the memory is asked
    expect(memory.claim('b', ts + 301).status).toBe('new');
    expect(memory.size).toBe(1);
  });

  it('answers full with the seconds until the oldest entry expires, and accepts again after', () => {
    let nowMs = 5_000_000;
    const memory = new ReplayMemory(300, 2, () => nowMs);
    const now = nowMs / 1000;
    expect(memory.claim('a', now - 290).status).toBe('new');
    expect(memory.claim('b', now).status).toBe('new');
    expect(memory.claim('c', now)).toEqual({ status: 'full', retryAfterSeconds: 11 });
    nowMs += 11_000;
    expect(memory.claim('c', now).status).toBe('new');
    expect(memory.claim('b', now).status).toBe('replay');
  });

  it('survives a long idle stretch and a clock that steps back', () => {
    let nowMs = 10_000_000;
    const memory = new ReplayMemory(300, 5, () => nowMs);
    expect(memory.claim('a', nowMs / 1000).status).toBe('new');
    nowMs += 5_000_000;
    expect(memory.size).toBe(1);
    expect(memory.claim('b', nowMs / 1000).status).toBe('new');
    expect(memory.size).toBe(1);
    nowMs -= 60_000;
    expect(memory.claim('b', nowMs / 1000 + 60).status).toBe('replay');
  });
});

describe('KeyedRateLimit', () => {
  it('keeps one bucket per key and forgets those that refilled', () => {
    let t = 0;
    const limit = new KeyedRateLimit(1, 2, () => t);
    expect([limit.take('a'), limit.take('a'), limit.take('a')]).toEqual([true, true, false]);
    expect(limit.take('b')).toBe(true);
    expect(limit.retryAfterSeconds('a')).toBe(1);
    t += 1_000;
    expect(limit.take('a')).toBe(true);
    t += 60_000;
    limit.take('c');
    expect(limit.size).toBe(1);
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the rate', () => {
    let t = 0;
    const bucket = new TokenBucket(10, 3, () => t);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    t += 100;
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    expect(bucket.isFull()).toBe(false);
    t += 1_000;
    expect(bucket.isFull()).toBe(true);
  });

  it('takes several tokens at once, all or none', () => {
    let t = 0;
    const bucket = new TokenBucket(10, 20, () => t);
    expect(bucket.take(15)).toBe(true);
    expect(bucket.take(6)).toBe(false);
    expect(bucket.retryAfterSeconds(6)).toBe(1);
    expect(bucket.take(5)).toBe(true);
    expect(bucket.take(1)).toBe(false);
    t += 1_000;
    expect(bucket.take(10)).toBe(true);
    expect(bucket.capacity).toBe(20);
    expect(bucket.take(21)).toBe(false);
  });
});
