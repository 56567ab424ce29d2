import { describe, expect, it } from 'vitest';
import type { WireNotification } from '@/lib/contract';
import { makeStore } from '../index';
import { archiveChanged, newSocketMsg, notificationRemoved, notificationsExpired, notificationUpdated, preferencesChanged, synced } from '../notifications/slice';
import { selectToasts, toastDismissed, toastPresence, VISIBLE_TOASTS } from './slice';

/** Issue 23's toasts: they follow notifications that collapse, change, go, or are muted. */

const note = (seq: number, over: Partial<WireNotification> = {}): WireNotification => ({
  id: `n${seq}`,
  seq,
  entityType: 'like',
  data: { actor: 'Alice' },
  createdAt: '2025-01-01T00:00:00.000Z',
  read: false,
  ...over,
});
type Store = ReturnType<typeof makeStore>;
const toastIds = (store: Store) => selectToasts(store.getState()).map((t) => (t.kind === 'notification' ? t.notificationId : `${t.reason}:${t.count}`));

describe('toasts of collapsed notifications', () => {
  it('update the toast on screen in place, with its countdown started over, and never raise a second', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { collapseKey: 'k' })));
    for (let seq = 2; seq <= 20; seq++) store.dispatch(newSocketMsg(note(seq, { collapseKey: 'k', replaces: [`n${seq - 1}`] })));
    expect(selectToasts(store.getState())).toEqual([
      { id: 'n:n1', kind: 'notification', notificationId: 'n20', seq: 20, version: 19, collapseKey: 'k' },
    ]);
  });

  it('match the toast by collapse key when `replaces` is missing', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { collapseKey: 'k' })));
    store.dispatch(newSocketMsg(note(2)));
    store.dispatch(newSocketMsg(note(3, { collapseKey: 'k' })));
    expect(toastIds(store)).toEqual(['n2', 'n3']);
  });

  it('raise a toast again once the old one has gone', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { collapseKey: 'k' })));
    store.dispatch(toastDismissed('n:n1'));
    store.dispatch(newSocketMsg(note(2, { collapseKey: 'k', replaces: ['n1'] })));
    expect(toastIds(store)).toEqual(['n2']);
  });

  it('stay folded: one counted in a burst summary is counted as the new one', () => {
    const store = makeStore();
    for (let seq = 1; seq <= VISIBLE_TOASTS + 1; seq++) store.dispatch(newSocketMsg(note(seq, seq === 1 ? { collapseKey: 'k' } : {})));
    expect(toastIds(store)).toEqual(['n4', 'n3', 'n2', 'burst:1']);
    store.dispatch(newSocketMsg(note(5, { collapseKey: 'k', replaces: ['n1'] })));
    expect(toastIds(store)).toEqual(['n4', 'n3', 'n2', 'burst:1']);
    const summary = selectToasts(store.getState()).at(-1);
    expect(summary).toMatchObject({ ids: ['n5'] });
  });

  it('stay in the away summary while no tab is visible', () => {
    const store = makeStore();
    store.dispatch(toastPresence({ owner: false, anyVisible: false }));
    store.dispatch(newSocketMsg(note(1, { collapseKey: 'k' })));
    store.dispatch(newSocketMsg(note(2, { collapseKey: 'k', replaces: ['n1'] })));
    store.dispatch(toastPresence({ owner: true, anyVisible: true }));
    expect(selectToasts(store.getState())).toMatchObject([{ kind: 'summary', reason: 'away', count: 1, ids: ['n2'] }]);
  });
});

describe('toasts of changed and removed notifications', () => {
  it('an update redraws the toast and starts its countdown over', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1)));
    store.dispatch(notificationUpdated({ seq: 2, id: 'n1', entityType: 'export', data: 'Export ready' }));
    expect(selectToasts(store.getState())).toEqual([{ id: 'n:n1', kind: 'notification', notificationId: 'n1', seq: 1, version: 1 }]);
  });

  it('a removal takes the toast away, and out of a summary’s count', () => {
    const store = makeStore();
    for (let seq = 1; seq <= VISIBLE_TOASTS + 2; seq++) store.dispatch(newSocketMsg(note(seq)));
    expect(toastIds(store)).toEqual(['n5', 'n4', 'n3', 'burst:2']);
    store.dispatch(notificationRemoved({ seq: 9, ids: ['n4', 'n1'], reason: 'retracted', unread: 3 }));
    expect(toastIds(store)).toEqual(['n5', 'n3', 'burst:1']);
    store.dispatch(notificationsExpired(['n2']));
    expect(toastIds(store)).toEqual(['n5', 'n3']);
  });

  it('a removal during catch-up leaves the away summary', () => {
    const store = makeStore();
    for (const seq of [1, 2]) store.dispatch(newSocketMsg({ ...note(seq), replay: true }));
    store.dispatch(notificationRemoved({ seq: 3, ids: ['n1'], reason: 'collapsed', replay: true }));
    store.dispatch(synced({ replayed: 2, unread: 1, headSeq: 3, serverTime: 0, firstVisit: false }));
    expect(selectToasts(store.getState())).toMatchObject([{ kind: 'summary', reason: 'away', count: 1, ids: ['n2'] }]);
  });

  it('archiving takes the toast away', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1)));
    store.dispatch(archiveChanged({ ids: ['n1'], archived: true, unread: 0, headSeq: 1 }));
    expect(selectToasts(store.getState())).toEqual([]);
  });
});

describe('muted types and high priority', () => {
  it('never toasts a muted type, live or in a catch-up summary', () => {
    const store = makeStore();
    store.dispatch(preferencesChanged({ mutedTypes: ['like'] }));
    store.dispatch(newSocketMsg(note(1)));
    expect(selectToasts(store.getState())).toEqual([]);
    store.dispatch(newSocketMsg({ ...note(2), replay: true }));
    store.dispatch(newSocketMsg({ ...note(3, { entityType: 'comment' }), replay: true }));
    store.dispatch(synced({ replayed: 2, unread: 1, headSeq: 3, serverTime: 0, firstVisit: false, preferences: { mutedTypes: ['like'] } }));
    expect(selectToasts(store.getState())).toMatchObject([{ kind: 'summary', reason: 'away', count: 1, ids: ['n3'] }]);
  });

  it('takes the muted types from a sync, and forgets them when the sync has none', () => {
    const store = makeStore();
    store.dispatch(synced({ replayed: 0, unread: 0, headSeq: 0, serverTime: 0, firstVisit: false, preferences: { mutedTypes: ['like'] } }));
    store.dispatch(newSocketMsg(note(1)));
    store.dispatch(synced({ replayed: 0, unread: 0, headSeq: 1, serverTime: 0, firstVisit: false }));
    store.dispatch(newSocketMsg(note(2)));
    expect(toastIds(store)).toEqual(['n2']);
  });

  it('toasts a high-priority notification of a muted type, as a sticky toast', () => {
    const store = makeStore();
    store.dispatch(preferencesChanged({ mutedTypes: ['alert'] }));
    store.dispatch(newSocketMsg(note(1, { entityType: 'alert', priority: 'high' })));
    expect(selectToasts(store.getState())).toEqual([{ id: 'n:n1', kind: 'notification', notificationId: 'n1', seq: 1, sticky: true }]);
  });

  it('never folds a sticky toast into a burst summary', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { priority: 'high' })));
    for (let seq = 2; seq <= 6; seq++) store.dispatch(newSocketMsg(note(seq)));
    expect(toastIds(store)).toEqual(['n6', 'n5', 'n1', 'burst:3']);
  });
});
