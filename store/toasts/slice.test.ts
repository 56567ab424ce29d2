import { describe, expect, it } from 'vitest';
import type { WireNotification } from '@/lib/contract';
import { makeStore } from '../index';
import { newSocketMsg, synced } from '../notifications/slice';
import { MAX_QUEUED_TOASTS, selectToasts, toastDismissed } from './slice';

const note = (seq: number): WireNotification => ({
  id: `n${seq}`,
  seq,
  entityType: 'message',
  data: 'hello',
  createdAt: '2025-01-01T00:00:00.000Z',
  read: false,
});

describe('toasts slice', () => {
  it('raises one toast per live notification, newest on top', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1)));
    store.dispatch(newSocketMsg(note(2)));
    expect(selectToasts(store.getState())).toEqual([
      { id: 'n:n2', kind: 'notification', notificationId: 'n2' },
      { id: 'n:n1', kind: 'notification', notificationId: 'n1' },
    ]);
  });

  it('never toasts a redelivered notification twice', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1)));
    store.dispatch(newSocketMsg(note(1)));
    expect(selectToasts(store.getState())).toHaveLength(1);
  });

  it('does not bring back a dismissed toast when the notification is redelivered', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1)));
    store.dispatch(toastDismissed('n:n1'));
    store.dispatch(newSocketMsg(note(1)));
    store.dispatch(newSocketMsg({ ...note(1), replay: true }));
    expect(selectToasts(store.getState())).toEqual([]);
  });

  it('dismisses exactly the named toast', () => {
    const store = makeStore();
    for (const seq of [1, 2, 3]) store.dispatch(newSocketMsg(note(seq)));
    store.dispatch(toastDismissed('n:n2'));
    expect(selectToasts(store.getState()).map((t) => t.id)).toEqual(['n:n3', 'n:n1']);
    store.dispatch(toastDismissed('no-such-toast'));
    expect(selectToasts(store.getState())).toHaveLength(2);
  });

  it('dismisses a summary toast', () => {
    const store = makeStore();
    store.dispatch(synced({ replayed: 3, unread: 3, headSeq: 3, serverTime: 0, firstVisit: false }));
    const [summary] = selectToasts(store.getState());
    expect(summary?.kind).toBe('summary');
    store.dispatch(toastDismissed(summary?.id ?? ''));
    expect(selectToasts(store.getState())).toEqual([]);
  });

  it(`keeps at most ${MAX_QUEUED_TOASTS} queued, dropping the oldest`, () => {
    const store = makeStore();
    const total = MAX_QUEUED_TOASTS + 10;
    for (let seq = 1; seq <= total; seq++) store.dispatch(newSocketMsg(note(seq)));
    const toasts = selectToasts(store.getState());
    expect(toasts).toHaveLength(MAX_QUEUED_TOASTS);
    expect(toasts[0]?.id).toBe(`n:n${total}`);
    expect(toasts.at(-1)?.id).toBe(`n:n${total - MAX_QUEUED_TOASTS + 1}`);
  });

  it('still refuses to re-toast recent notifications after many arrivals', () => {
    const store = makeStore();
    const total = MAX_QUEUED_TOASTS * 4 + 1;
    for (let seq = 1; seq <= total; seq++) store.dispatch(newSocketMsg(note(seq)));
    const before = selectToasts(store.getState());
    store.dispatch(newSocketMsg(note(total)));
    store.dispatch(newSocketMsg(note(total - 10)));
    expect(selectToasts(store.getState())).toEqual(before);
  });
});
