import { describe, expect, it } from 'vitest';
import type { ReplayedNotification, WireNotification } from '@/lib/contract';
import { makeStore } from '../index';
import { selectToasts } from '../toasts/slice';
import {
  historyFailed,
  historyLoaded,
  historyRequested,
  newSocketMsg,
  readStateChanged,
  resumeFrom,
  selectAllNotifications,
  selectHistory,
  selectLastSeq,
  selectLiveNotifications,
  selectNotificationById,
  selectUnreadCount,
  signedOut,
  syncReset,
  synced,
} from './slice';

const note = (seq: number, over: Partial<WireNotification> = {}): WireNotification => ({
  id: `n${seq}`,
  seq,
  entityType: 'like',
  data: { actor: 'Alice' },
  createdAt: new Date(Date.UTC(2025, 0, 1) + seq * 1000).toISOString(),
  read: false,
  ...over,
});
const replayed = (seq: number, over: Partial<WireNotification> = {}): ReplayedNotification => ({
  ...note(seq, over),
  replay: true,
});

const ids = (store: ReturnType<typeof makeStore>) => selectAllNotifications(store.getState()).map((n) => n.id);

describe('notifications slice', () => {
  it('starts empty', () => {
    const store = makeStore();
    expect(selectAllNotifications(store.getState())).toEqual([]);
    expect(selectLastSeq(store.getState())).toBeNull();
    expect(selectUnreadCount(store.getState())).toBe(0);
    expect(selectHistory(store.getState())).toEqual({ nextCursor: null, status: 'idle', complete: false });
  });

  describe('NEW_SOCKET_MSG', () => {
    it('has the action type exactly NEW_SOCKET_MSG', () => {
      expect(newSocketMsg.type).toBe('NEW_SOCKET_MSG');
      expect(newSocketMsg(note(1)).type).toBe('NEW_SOCKET_MSG');
    });

    it('is handled when dispatched as a plain object by another client', () => {
      const store = makeStore();
      store.dispatch({ type: 'NEW_SOCKET_MSG', payload: note(1) });
      expect(ids(store)).toEqual(['n1']);
    });

    it('stores the notification as received, without the replay flag', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg(replayed(4)));
      expect(selectNotificationById(store.getState(), 'n4')).toEqual(note(4));
    });

    it('upserts by id: a redelivery never duplicates and carries the newer copy', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg(note(1)));
      store.dispatch(newSocketMsg(note(1)));
      store.dispatch(newSocketMsg(replayed(1, { read: true })));
      expect(ids(store)).toEqual(['n1']);
      expect(selectNotificationById(store.getState(), 'n1')?.read).toBe(true);
      expect(selectLiveNotifications(store.getState()).map((n) => n.id)).toEqual(['n1']);
    });

    it('orders newest first by seq, whatever the arrival order', () => {
      const store = makeStore();
      for (const seq of [2, 5, 3, 10, 1]) store.dispatch(newSocketMsg(note(seq)));
      expect(ids(store)).toEqual(['n10', 'n5', 'n3', 'n2', 'n1']);
    });

    it('orders by seq, not by createdAt', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg(note(1, { createdAt: '2030-01-01T00:00:00.000Z' })));
      store.dispatch(newSocketMsg(note(2, { createdAt: '2020-01-01T00:00:00.000Z' })));
      expect(ids(store)).toEqual(['n2', 'n1']);
    });

    it('raises lastSeq and never lowers it', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg(note(5)));
      expect(selectLastSeq(store.getState())).toBe(5);
      store.dispatch(newSocketMsg(note(3)));
      expect(selectLastSeq(store.getState())).toBe(5);
      store.dispatch(newSocketMsg(replayed(8)));
      expect(selectLastSeq(store.getState())).toBe(8);
    });

    it('lists live arrivals newest first, but not replayed ones', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg(replayed(1)));
      store.dispatch(newSocketMsg(replayed(2)));
      store.dispatch(newSocketMsg(note(3)));
      store.dispatch(newSocketMsg(note(4)));
      expect(selectLiveNotifications(store.getState()).map((n) => n.id)).toEqual(['n4', 'n3']);
      expect(ids(store)).toEqual(['n4', 'n3', 'n2', 'n1']);
    });

    it('does not toast replayed notifications one by one', () => {
      const store = makeStore();
      for (let seq = 1; seq <= 5; seq++) store.dispatch(newSocketMsg(replayed(seq)));
      expect(selectToasts(store.getState())).toEqual([]);
    });
  });

  describe('resumeFrom', () => {
    it('sets where a returning browser left off', () => {
      const store = makeStore();
      store.dispatch(resumeFrom(42));
      expect(selectLastSeq(store.getState())).toBe(42);
      store.dispatch(newSocketMsg(note(43)));
      expect(selectLastSeq(store.getState())).toBe(43);
    });
  });

  describe('synced', () => {
    it('raises exactly one summary toast for what was replayed', () => {
      const store = makeStore();
      store.dispatch(resumeFrom(10));
      for (let seq = 11; seq <= 15; seq++) store.dispatch(newSocketMsg(replayed(seq)));
      store.dispatch(synced({ replayed: 5, unread: 5, headSeq: 15, serverTime: 0, firstVisit: false }));
      const toasts = selectToasts(store.getState());
      expect(toasts).toHaveLength(1);
      expect(toasts[0]).toMatchObject({ kind: 'summary', count: 5, reason: 'away' });
    });

    it('raises an "unread" summary on a first visit with unread notifications', () => {
      const store = makeStore();
      store.dispatch(synced({ replayed: 0, unread: 7, headSeq: 30, serverTime: 0, firstVisit: true }));
      const toasts = selectToasts(store.getState());
      expect(toasts).toHaveLength(1);
      expect(toasts[0]).toMatchObject({ kind: 'summary', count: 7, reason: 'unread' });
    });

    it('raises no toast when nothing was missed', () => {
      const store = makeStore();
      store.dispatch(synced({ replayed: 0, unread: 0, headSeq: 30, serverTime: 0, firstVisit: true }));
      store.dispatch(synced({ replayed: 0, unread: 4, headSeq: 30, serverTime: 0, firstVisit: false }));
      expect(selectToasts(store.getState())).toEqual([]);
    });

    it('replaces an earlier summary with the summary of a later catch-up, under a new id', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg(replayed(1)));
      store.dispatch(synced({ replayed: 1, unread: 1, headSeq: 1, serverTime: 0, firstVisit: false }));
      const [first] = selectToasts(store.getState());
      store.dispatch(newSocketMsg(replayed(2)));
      store.dispatch(newSocketMsg(replayed(3)));
      store.dispatch(synced({ replayed: 2, unread: 3, headSeq: 3, serverTime: 0, firstVisit: false }));
      const toasts = selectToasts(store.getState());
      expect(toasts).toHaveLength(1);
      expect(toasts[0]).toMatchObject({ kind: 'summary', reason: 'away', count: 2 });
      expect(toasts[0]?.id).not.toBe(first?.id);
    });

    it('counts only the unread notifications a catch-up replayed', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg(replayed(1, { read: true })));
      store.dispatch(newSocketMsg(replayed(2)));
      store.dispatch(synced({ replayed: 2, unread: 1, headSeq: 2, serverTime: 0, firstVisit: false }));
      expect(selectToasts(store.getState())).toMatchObject([{ kind: 'summary', reason: 'away', count: 1, ids: ['n2'] }]);
    });

    it('sets the unread base', () => {
      const store = makeStore();
      store.dispatch(synced({ replayed: 0, unread: 12, headSeq: 40, serverTime: 0, firstVisit: true }));
      expect(selectUnreadCount(store.getState())).toBe(12);
    });
  });

  describe('selectUnreadCount', () => {
    it('adds unread items above the base head seq to the base count', () => {
      const store = makeStore();
      store.dispatch(synced({ replayed: 0, unread: 3, headSeq: 10, serverTime: 0, firstVisit: false }));
      store.dispatch(newSocketMsg(note(9))); // covered by the base already
      store.dispatch(newSocketMsg(note(11)));
      store.dispatch(newSocketMsg(note(12)));
      store.dispatch(newSocketMsg(note(13, { read: true })));
      expect(selectUnreadCount(store.getState())).toBe(5);
    });

    it('does not count a redelivered notification twice', () => {
      const store = makeStore();
      store.dispatch(synced({ replayed: 0, unread: 0, headSeq: 0, serverTime: 0, firstVisit: false }));
      store.dispatch(newSocketMsg(note(1)));
      store.dispatch(newSocketMsg(note(1)));
      expect(selectUnreadCount(store.getState())).toBe(1);
    });

    it('does not double count a replayed item once synced covers it', () => {
      const store = makeStore();
      store.dispatch(resumeFrom(4));
      store.dispatch(newSocketMsg(replayed(5)));
      store.dispatch(newSocketMsg(replayed(6)));
      expect(selectUnreadCount(store.getState())).toBe(2);
      store.dispatch(synced({ replayed: 2, unread: 2, headSeq: 6, serverTime: 0, firstVisit: false }));
      expect(selectUnreadCount(store.getState())).toBe(2);
      store.dispatch(newSocketMsg(note(7)));
      expect(selectUnreadCount(store.getState())).toBe(3);
    });

    it('can be preloaded through makeStore', () => {
      const base = makeStore().getState().notifications;
      const store = makeStore({ notifications: { ...base, base: { unread: 9, headSeq: 100 } } });
      expect(selectUnreadCount(store.getState())).toBe(9);
    });
  });

  describe('readStateChanged', () => {
    it('marks the named ids read and takes the new base', () => {
      const store = makeStore();
      for (const seq of [1, 2, 3]) store.dispatch(newSocketMsg(note(seq)));
      store.dispatch(synced({ replayed: 0, unread: 3, headSeq: 3, serverTime: 0, firstVisit: false }));
      store.dispatch(readStateChanged({ unread: 1, headSeq: 3, readIds: ['n1', 'n3', 'not-loaded'] }));
      const read = Object.fromEntries(selectAllNotifications(store.getState()).map((n) => [n.id, n.read]));
      expect(read).toEqual({ n1: true, n2: false, n3: true });
      expect(selectUnreadCount(store.getState())).toBe(1);
      // An id the tab never loaded is not invented.
      expect(selectNotificationById(store.getState(), 'not-loaded')).toBeUndefined();
    });

    it('marks the ids of a notifications:unread answer unread again', () => {
      const store = makeStore();
      for (const seq of [1, 2]) store.dispatch(newSocketMsg(note(seq, { read: true })));
      store.dispatch(readStateChanged({ unread: 1, headSeq: 2, readIds: [], unreadIds: ['n1', 'not-loaded'] }));
      const read = Object.fromEntries(selectAllNotifications(store.getState()).map((n) => [n.id, n.read]));
      expect(read).toEqual({ n1: false, n2: true });
      expect(selectUnreadCount(store.getState())).toBe(1);
      expect(selectNotificationById(store.getState(), 'not-loaded')).toBeUndefined();
    });

    it('marks everything up to the head seq read on read-all, but not what arrived after', () => {
      const store = makeStore();
      for (const seq of [1, 2, 3, 4]) store.dispatch(newSocketMsg(note(seq)));
      store.dispatch(readStateChanged({ unread: 0, headSeq: 3, readIds: [], all: true }));
      const read = Object.fromEntries(selectAllNotifications(store.getState()).map((n) => [n.id, n.read]));
      expect(read).toEqual({ n1: true, n2: true, n3: true, n4: false });
      expect(selectUnreadCount(store.getState())).toBe(1);
    });
  });

  describe('history', () => {
    it('tracks loading, failure and loading again', () => {
      const store = makeStore();
      store.dispatch(historyRequested());
      expect(selectHistory(store.getState()).status).toBe('loading');
      store.dispatch(historyFailed());
      expect(selectHistory(store.getState()).status).toBe('error');
      store.dispatch(historyRequested());
      expect(selectHistory(store.getState()).status).toBe('loading');
    });

    it('pages back: merges pages in order and completes when the cursor is null', () => {
      const store = makeStore();
      store.dispatch(historyRequested());
      store.dispatch(historyLoaded({ items: [note(30), note(29), note(28)], nextCursor: 28, first: true }));
      expect(selectHistory(store.getState())).toEqual({ nextCursor: 28, status: 'loaded', complete: false });
      expect(selectLastSeq(store.getState())).toBe(30);

      store.dispatch(historyLoaded({ items: [note(27), note(26)], nextCursor: null, first: false }));
      expect(selectHistory(store.getState())).toEqual({ nextCursor: null, status: 'loaded', complete: true });
      expect(ids(store)).toEqual(['n30', 'n29', 'n28', 'n27', 'n26']);
    });

    it('does not treat history as live: no live list entries and no toasts', () => {
      const store = makeStore();
      store.dispatch(historyLoaded({ items: [note(2), note(1)], nextCursor: null, first: true }));
      expect(selectLiveNotifications(store.getState())).toEqual([]);
      expect(selectToasts(store.getState())).toEqual([]);
    });

    it('raises lastSeq only from the first page, and never lowers it', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg(note(50)));
      store.dispatch(historyLoaded({ items: [note(40)], nextCursor: 40, first: true }));
      expect(selectLastSeq(store.getState())).toBe(50);

      const other = makeStore();
      other.dispatch(historyLoaded({ items: [note(20)], nextCursor: null, first: false }));
      expect(selectLastSeq(other.getState())).toBeNull();
    });

    it('merges a page with live arrivals without duplicating', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg(note(3)));
      store.dispatch(historyLoaded({ items: [note(3), note(2), note(1)], nextCursor: null, first: true }));
      expect(ids(store)).toEqual(['n3', 'n2', 'n1']);
    });
  });

  describe('syncReset', () => {
    it('clears the loaded notifications and history so the first page can reload', () => {
      const store = makeStore();
      store.dispatch(historyLoaded({ items: [note(2), note(1)], nextCursor: 1, first: true }));
      store.dispatch(syncReset());
      expect(selectAllNotifications(store.getState())).toEqual([]);
      expect(selectHistory(store.getState())).toEqual({ nextCursor: null, status: 'idle', complete: false });
      store.dispatch(historyLoaded({ items: [note(9)], nextCursor: null, first: true }));
      expect(ids(store)).toEqual(['n9']);
      expect(selectLastSeq(store.getState())).toBe(9);
    });
  });

  describe('signedOut', () => {
    it('resets notifications and toasts', () => {
      const store = makeStore();
      store.dispatch(resumeFrom(3));
      store.dispatch(newSocketMsg(note(4)));
      store.dispatch(synced({ replayed: 1, unread: 1, headSeq: 4, serverTime: 0, firstVisit: false }));
      store.dispatch(signedOut());
      const fresh = makeStore().getState();
      expect(store.getState().notifications).toEqual(fresh.notifications);
      expect(store.getState().toasts).toEqual(fresh.toasts);
      expect(selectUnreadCount(store.getState())).toBe(0);
    });

    it('lets the next user see a notification id the previous one was toasted', () => {
      const store = makeStore();
      store.dispatch(newSocketMsg(note(1)));
      store.dispatch(signedOut());
      store.dispatch(newSocketMsg(note(1)));
      expect(selectToasts(store.getState())).toHaveLength(1);
      expect(selectLiveNotifications(store.getState()).map((n) => n.id)).toEqual(['n1']);
    });
  });
});
