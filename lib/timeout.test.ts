import { afterEach, describe, expect, it, vi } from 'vitest';
import { orAfter } from './timeout';

afterEach(() => {
  vi.useRealTimers();
});

describe('orAfter', () => {
  it("gives the work's answer and leaves no timer behind", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    expect(await orAfter(Promise.resolve(7), 250, null)).toBe(7);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives the fallback once the time has passed without an answer, and clears nothing it should not', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pending = orAfter(new Promise<number>(() => undefined), 250, 'late' as const);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(249);
    let settled = false;
    void pending.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await pending).toBe('late');
    expect(vi.getTimerCount()).toBe(0);
  });

  it("passes the work's rejection on, and still clears the timer", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await expect(orAfter(Promise.reject(new Error('down')), 250, null)).rejects.toThrow('down');
    expect(vi.getTimerCount()).toBe(0);
  });
});
