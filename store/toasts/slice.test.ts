import { describe, expect, it } from 'vitest';
import type { WireNotification } from '@/lib/contract';
import { makeStore } from '../index';
import {
  archiveChanged,
  newSocketMsg,
  notificationRemoved,
  notificationsExpired,
  notificationUpdated,
  preferencesChanged,
  readStateChanged,
  synced,
} from '../notifications/slice';
import { inboxClosed, inboxOpened } from '../ui/slice';
import { selectToasts, toastDismissed, toastPresence, toastsExpired, VISIBLE_TOASTS } from './slice';

const note = (seq: number, over: Partial<WireNotification> = {}): WireNotification => ({
  id: `n${seq}`,
  seq,
  entityType: 'message',
  data: 'hello',
  createdAt: '2025-01-01T00:00:00.000Z',
  read: false,
  ...over,
});

const push = (store: ReturnType<typeof makeStore>, from: number, to: number) => {
  for (let seq = from; seq <= to; seq++) store.dispatch(newSocketMsg(note(seq)));
};

describe('toasts slice', () => {
  it('raises one toast per live notification, newest on top', () => {
    const store = makeStore();
    push(store, 1, 2);
    expect(selectToasts(store.getState())).toEqual([
      { id: 'n:n2', kind: 'notification', notificationId: 'n2', seq: 2 },
      { id: 'n:n1', kind: 'notification', notificationId: 'n1', seq: 1 },
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
    push(store, 1, 3);
    store.dispatch(toastDismissed('n:n2'));
    expect(selectToasts(store.getState()).map((t) => t.id)).toEqual(['n:n3', 'n:n1']);
    store.dispatch(toastDismissed('no-such-toast'));
    expect(selectToasts(store.getState())).toHaveLength(2);
  });

  it('removes the toasts whose countdown ran out', () => {
    const store = makeStore();
    push(store, 1, 3);
    store.dispatch(toastsExpired(['n:n1', 'n:n3']));
    expect(selectToasts(store.getState()).map((t) => t.id)).toEqual(['n:n2']);
  });

  it('dismisses a summary toast', () => {
    const store = makeStore();
    for (let seq = 1; seq <= 3; seq++) store.dispatch(newSocketMsg({ ...note(seq), replay: true }));
    store.dispatch(synced({ replayed: 3, unread: 3, headSeq: 3, serverTime: 0, firstVisit: false }));
    const [summary] = selectToasts(store.getState());
    expect(summary).toMatchObject({ kind: 'summary', reason: 'away', count: 3, ids: ['n1', 'n2', 'n3'] });
    store.dispatch(toastDismissed(summary?.id ?? ''));
    expect(selectToasts(store.getState())).toEqual([]);
  });

  it('does not toast a notification that arrives already read', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { read: true })));
    expect(selectToasts(store.getState())).toEqual([]);
  });

  describe('bursts', () => {
    it(`keeps the newest ${VISIBLE_TOASTS} toasts and folds the rest into one summary, behind them`, () => {
      const store = makeStore();
      push(store, 1, 200);
      const toasts = selectToasts(store.getState());
      expect(toasts).toHaveLength(VISIBLE_TOASTS + 1);
      expect(toasts.slice(0, VISIBLE_TOASTS).map((t) => t.id)).toEqual(['n:n200', 'n:n199', 'n:n198']);
      expect(toasts[VISIBLE_TOASTS]).toMatchObject({ kind: 'summary', reason: 'burst', count: 197, version: 196 });
      const summary = toasts[VISIBLE_TOASTS];
      expect(summary?.kind === 'summary' && summary.ids).toEqual(Array.from({ length: 197 }, (_, i) => `n${i + 1}`));
    });

    it('makes room only when the stack is full', () => {
      const store = makeStore();
      push(store, 1, 5);
      store.dispatch(toastDismissed('n:n4'));
      store.dispatch(newSocketMsg(note(6)));
      expect(selectToasts(store.getState()).map((t) => t.id)).toEqual(['n:n6', 'n:n5', 'n:n3', 'burst:n1']);
      store.dispatch(newSocketMsg(note(7)));
      const toasts = selectToasts(store.getState());
      expect(toasts.map((t) => t.id)).toEqual(['n:n7', 'n:n6', 'n:n5', 'burst:n1']);
      expect(toasts[3]).toMatchObject({ count: 3, ids: ['n1', 'n2', 'n3'] });
    });

    it('folds a burst into the summary of a catch-up', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg({ ...note(1), replay: true }));
      store.dispatch(synced({ replayed: 1, unread: 1, headSeq: 1, serverTime: 0, firstVisit: false }));
      push(store, 2, 10);
      const toasts = selectToasts(store.getState());
      expect(toasts).toHaveLength(VISIBLE_TOASTS + 1);
      expect(toasts.map((t) => t.kind)).toEqual(['notification', 'notification', 'notification', 'summary']);
      expect(toasts[3]).toMatchObject({ reason: 'away', count: 1 + 9 - VISIBLE_TOASTS });
    });
  });

  describe('read anywhere', () => {
    it('removes the toast of a notification read in any tab', () => {
      const store = makeStore();
      push(store, 1, 2);
      store.dispatch(readStateChanged({ unread: 1, headSeq: 2, readIds: ['n1'] }));
      expect(selectToasts(store.getState()).map((t) => t.id)).toEqual(['n:n2']);
    });

    it('takes read notifications out of a summary, and the summary once it counts none', () => {
      const store = makeStore();
      push(store, 1, 5);
      store.dispatch(readStateChanged({ unread: 4, headSeq: 5, readIds: ['n1'] }));
      expect(selectToasts(store.getState())[3]).toMatchObject({ kind: 'summary', count: 1, ids: ['n2'] });
      store.dispatch(readStateChanged({ unread: 3, headSeq: 5, readIds: ['n2'] }));
      expect(selectToasts(store.getState()).map((t) => t.kind)).toEqual(['notification', 'notification', 'notification']);
    });

    it('clears every toast up to the head seq on read-all, but not a later arrival', () => {
      const store = makeStore();
      push(store, 1, 5);
      store.dispatch(readStateChanged({ unread: 0, headSeq: 4, readIds: [], all: true }));
      expect(selectToasts(store.getState()).map((t) => t.id)).toEqual(['n:n5']);
    });

    it('removes the first-visit "unread" summary once nothing is unread', () => {
      const store = makeStore();
      store.dispatch(synced({ replayed: 0, unread: 2, headSeq: 2, serverTime: 0, firstVisit: true }));
      store.dispatch(readStateChanged({ unread: 1, headSeq: 2, readIds: ['x'] }));
      expect(selectToasts(store.getState())).toHaveLength(1);
      store.dispatch(readStateChanged({ unread: 0, headSeq: 2, readIds: ['y'] }));
      expect(selectToasts(store.getState())).toEqual([]);
    });
  });

  describe('while the inbox is open', () => {
    it('clears the toasts when the inbox opens and raises none until it closes', () => {
      const store = makeStore();
      push(store, 1, 5);
      store.dispatch(inboxOpened());
      expect(selectToasts(store.getState())).toEqual([]);
      store.dispatch(newSocketMsg(note(6)));
      store.dispatch(newSocketMsg({ ...note(7), replay: true }));
      store.dispatch(synced({ replayed: 1, unread: 7, headSeq: 7, serverTime: 0, firstVisit: false }));
      expect(selectToasts(store.getState())).toEqual([]);
      store.dispatch(inboxClosed());
      // What arrived while it was open was seen there: closing does not toast it.
      store.dispatch(newSocketMsg(note(6)));
      expect(selectToasts(store.getState())).toEqual([]);
      store.dispatch(newSocketMsg(note(8)));
      expect(selectToasts(store.getState()).map((t) => t.id)).toEqual(['n:n8']);
    });
  });

  it('still refuses to re-toast recent notifications after many arrivals', () => {
    const store = makeStore();
    push(store, 1, 201);
    const before = selectToasts(store.getState());
    store.dispatch(newSocketMsg(note(201)));
    store.dispatch(newSocketMsg(note(191)));
    expect(selectToasts(store.getState())).toEqual(before);
  });
});

/** Issue 23's toasts: they follow notifications that collapse, change, go, or are muted. */
const toastIds = (store: ReturnType<typeof makeStore>) =>
  selectToasts(store.getState()).map((t) => (t.kind === 'notification' ? t.notificationId : `${t.reason}:${t.count}`));
const like = (seq: number, over: Partial<WireNotification> = {}) => note(seq, { entityType: 'like', ...over });

describe('toasts of collapsed notifications', () => {
  it('update the toast on screen in place, with its countdown started over, and never raise a second', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(like(1, { collapseKey: 'k' })));
    for (let seq = 2; seq <= 20; seq++) store.dispatch(newSocketMsg(like(seq, { collapseKey: 'k', replaces: [`n${seq - 1}`] })));
    expect(selectToasts(store.getState())).toEqual([
      { id: 'n:n1', kind: 'notification', notificationId: 'n20', seq: 20, version: 19, collapseKey: 'k' },
    ]);
  });

  it('match the toast by collapse key when `replaces` is missing', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(like(1, { collapseKey: 'k' })));
    store.dispatch(newSocketMsg(like(2)));
    store.dispatch(newSocketMsg(like(3, { collapseKey: 'k' })));
    expect(toastIds(store)).toEqual(['n2', 'n3']);
  });

  it('raise a toast again once the old one has gone', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(like(1, { collapseKey: 'k' })));
    store.dispatch(toastDismissed('n:n1'));
    store.dispatch(newSocketMsg(like(2, { collapseKey: 'k', replaces: ['n1'] })));
    expect(toastIds(store)).toEqual(['n2']);
  });

  it('stay folded: one counted in a burst summary is counted as the new one', () => {
    const store = makeStore();
    for (let seq = 1; seq <= VISIBLE_TOASTS + 1; seq++) store.dispatch(newSocketMsg(like(seq, seq === 1 ? { collapseKey: 'k' } : {})));
    expect(toastIds(store)).toEqual(['n4', 'n3', 'n2', 'burst:1']);
    store.dispatch(newSocketMsg(like(5, { collapseKey: 'k', replaces: ['n1'] })));
    expect(toastIds(store)).toEqual(['n4', 'n3', 'n2', 'burst:1']);
    const summary = selectToasts(store.getState()).at(-1);
    expect(summary).toMatchObject({ ids: ['n5'] });
  });

  it('stay in the away summary while no tab is visible', () => {
    const store = makeStore();
    store.dispatch(toastPresence({ owner: false, anyVisible: false }));
    store.dispatch(newSocketMsg(like(1, { collapseKey: 'k' })));
    store.dispatch(newSocketMsg(like(2, { collapseKey: 'k', replaces: ['n1'] })));
    store.dispatch(toastPresence({ owner: true, anyVisible: true }));
    expect(selectToasts(store.getState())).toMatchObject([{ kind: 'summary', reason: 'away', count: 1, ids: ['n2'] }]);
  });
});

describe('toasts of changed and removed notifications', () => {
  it('an update redraws the toast and starts its countdown over', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(like(1)));
    store.dispatch(notificationUpdated({ seq: 2, id: 'n1', entityType: 'export', data: 'Export ready' }));
    expect(selectToasts(store.getState())).toEqual([{ id: 'n:n1', kind: 'notification', notificationId: 'n1', seq: 1, version: 1 }]);
  });

  it('a removal takes the toast away, and out of a summary’s count', () => {
    const store = makeStore();
    for (let seq = 1; seq <= VISIBLE_TOASTS + 2; seq++) store.dispatch(newSocketMsg(like(seq)));
    expect(toastIds(store)).toEqual(['n5', 'n4', 'n3', 'burst:2']);
    store.dispatch(notificationRemoved({ seq: 9, ids: ['n4', 'n1'], reason: 'retracted', unread: 3 }));
    expect(toastIds(store)).toEqual(['n5', 'n3', 'burst:1']);
    store.dispatch(notificationsExpired(['n2']));
    expect(toastIds(store)).toEqual(['n5', 'n3']);
  });

  it('a removal during catch-up leaves the away summary', () => {
    const store = makeStore();
    for (const seq of [1, 2]) store.dispatch(newSocketMsg({ ...like(seq), replay: true }));
    store.dispatch(notificationRemoved({ seq: 3, ids: ['n1'], reason: 'collapsed', replay: true }));
    store.dispatch(synced({ replayed: 2, unread: 1, headSeq: 3, serverTime: 0, firstVisit: false }));
    expect(selectToasts(store.getState())).toMatchObject([{ kind: 'summary', reason: 'away', count: 1, ids: ['n2'] }]);
  });

  it('archiving takes the toast away', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(like(1)));
    store.dispatch(archiveChanged({ ids: ['n1'], archived: true, unread: 0, headSeq: 1 }));
    expect(selectToasts(store.getState())).toEqual([]);
  });
});

describe('muted types and high priority', () => {
  it('never toasts a muted type, live or in a catch-up summary', () => {
    const store = makeStore();
    store.dispatch(preferencesChanged({ mutedTypes: ['like'] }));
    store.dispatch(newSocketMsg(like(1)));
    expect(selectToasts(store.getState())).toEqual([]);
    store.dispatch(newSocketMsg({ ...like(2), replay: true }));
    store.dispatch(newSocketMsg({ ...like(3, { entityType: 'comment' }), replay: true }));
    store.dispatch(synced({ replayed: 2, unread: 1, headSeq: 3, serverTime: 0, firstVisit: false, preferences: { mutedTypes: ['like'] } }));
    expect(selectToasts(store.getState())).toMatchObject([{ kind: 'summary', reason: 'away', count: 1, ids: ['n3'] }]);
  });

  it('takes the muted types from a sync, and forgets them when the sync has none', () => {
    const store = makeStore();
    store.dispatch(synced({ replayed: 0, unread: 0, headSeq: 0, serverTime: 0, firstVisit: false, preferences: { mutedTypes: ['like'] } }));
    store.dispatch(newSocketMsg(like(1)));
    store.dispatch(synced({ replayed: 0, unread: 0, headSeq: 1, serverTime: 0, firstVisit: false }));
    store.dispatch(newSocketMsg(like(2)));
    expect(toastIds(store)).toEqual(['n2']);
  });

  it('toasts a high-priority notification of a muted type, as a sticky toast', () => {
    const store = makeStore();
    store.dispatch(preferencesChanged({ mutedTypes: ['alert'] }));
    store.dispatch(newSocketMsg(like(1, { entityType: 'alert', priority: 'high' })));
    expect(selectToasts(store.getState())).toEqual([{ id: 'n:n1', kind: 'notification', notificationId: 'n1', seq: 1, sticky: true }]);
  });

  it('never folds a sticky toast into a burst summary', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(like(1, { priority: 'high' })));
    for (let seq = 2; seq <= 6; seq++) store.dispatch(newSocketMsg(like(seq)));
    expect(toastIds(store)).toEqual(['n6', 'n5', 'n1', 'burst:3']);
  });
});
