import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeStore } from '../index';
import { synced } from '../notifications/slice';
import { selectClockOffset } from './slice';

afterEach(() => vi.useRealTimers());

describe('clock slice', () => {
  it('starts with no correction', () => {
    expect(selectClockOffset(makeStore().getState())).toBe(0);
  });

  it('takes the server clock minus this browser’s from each sync', () => {
    vi.useFakeTimers({ now: Date.UTC(2025, 0, 1, 12, 0, 0), toFake: ['Date'] });
    const store = makeStore();
    // The browser runs 10 minutes slow.
    store.dispatch(synced({ replayed: 0, unread: 0, headSeq: 0, serverTime: Date.UTC(2025, 0, 1, 12, 10, 0), firstVisit: false }));
    expect(selectClockOffset(store.getState())).toBe(10 * 60_000);
    // A later sync replaces it.
    store.dispatch(synced({ replayed: 0, unread: 0, headSeq: 0, serverTime: Date.UTC(2025, 0, 1, 11, 59, 58), firstVisit: false }));
    expect(selectClockOffset(store.getState())).toBe(-2_000);
  });

  it('ignores a sync without a usable server time', () => {
    const store = makeStore();
    store.dispatch(synced({ replayed: 0, unread: 0, headSeq: 0, serverTime: 0, firstVisit: false }));
    store.dispatch(synced({ replayed: 0, unread: 0, headSeq: 0, serverTime: Number.NaN, firstVisit: false }));
    expect(selectClockOffset(store.getState())).toBe(0);
  });
});
