import { describe, expect, it } from 'vitest';
import type { ReplayedNotification, WireNotification } from '@/lib/contract';
import { makeStore } from '../index';
import { selectToasts } from '../toasts/slice';
import {
  archiveChanged,
  historyFailed,
  historyLoaded,
  historyRequested,
  newSocketMsg,
  notificationRemoved,
  notificationsExpired,
  notificationUpdated,
  preferencesChanged,
  readStateChanged,
  resumeFrom,
  selectAllNotifications,
  selectExpiredIds,
  selectHistory,
  selectKnownTypes,
  selectLastSeq,
  selectLiveNotifications,
  selectMutedTypes,
  selectNextExpiry,
  selectNotificationById,
  selectUnreadCount,
  selectViewItems,
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

/** Issue 23 in the store: notifications that change after delivery. */
const sync = (unread: number, headSeq: number, mutedTypes?: string[]) =>
  synced({ replayed: 0, unread, headSeq, serverTime: 0, firstVisit: false, ...(mutedTypes ? { preferences: { mutedTypes } } : {}) });

describe('collapse', () => {
  it('replaces the old item with the new one at the top, one unread for the group', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { collapseKey: 'post:1' })));
    store.dispatch(newSocketMsg(note(2, { entityType: 'follow', data: { actor: 'Zed' } })));
    expect(selectUnreadCount(store.getState())).toBe(2);
    const group = { actors: ['Bob', 'Alice'], count: 2, pushes: 2 };
    store.dispatch(newSocketMsg(note(3, { collapseKey: 'post:1', replaces: ['n1'], group, data: { actor: 'Bob', target: 'Shipping Herald' } })));
    expect(ids(store)).toEqual(['n3', 'n2']);
    expect(selectUnreadCount(store.getState())).toBe(2);
    expect(selectNotificationById(store.getState(), 'n3')).toMatchObject({ group, collapseKey: 'post:1' });
    // `replaces` is live only: not kept.
    expect(selectNotificationById(store.getState(), 'n3')).not.toHaveProperty('replaces');
    expect(selectLiveNotifications(store.getState()).map((n) => n.id)).toEqual(['n3', 'n2']);
    expect(selectLastSeq(store.getState())).toBe(3);
  });

  it('takes the replaced item off the server’s count when the count covered it', () => {
    const store = makeStore();
    store.dispatch(historyLoaded({ items: [note(5, { collapseKey: 'k' })], nextCursor: null, first: true }));
    store.dispatch(sync(1, 5));
    expect(selectUnreadCount(store.getState())).toBe(1);
    store.dispatch(newSocketMsg(note(6, { collapseKey: 'k', replaces: ['n5'] })));
    expect(ids(store)).toEqual(['n6']);
    expect(selectUnreadCount(store.getState())).toBe(1);
  });

  it('drops a held unread item with the same collapse key even without `replaces` (a catch-up)', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { collapseKey: 'k' })));
    store.dispatch(newSocketMsg(note(2, { collapseKey: 'k', read: true, id: 'read-one' })));
    store.dispatch(newSocketMsg({ ...note(4, { collapseKey: 'k' }), replay: true }));
    // The unread one went; a read one is never merged into.
    expect(ids(store)).toEqual(['n4', 'read-one']);
    // The collapsed removal, replayed after, changes nothing more.
    store.dispatch(notificationRemoved({ seq: 5, ids: ['n1'], reason: 'collapsed', replay: true }));
    expect(ids(store)).toEqual(['n4', 'read-one']);
  });

  it('keeps a held item with the same key that is archived, or another key', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { collapseKey: 'k', archived: true })));
    store.dispatch(newSocketMsg(note(2, { collapseKey: 'other' })));
    store.dispatch(newSocketMsg(note(3, { collapseKey: 'k' })));
    expect(ids(store)).toEqual(['n3', 'n2', 'n1']);
  });
});

describe('update', () => {
  it('changes the content in place and keeps read state and position', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { entityType: 'export', data: 'Export 40 %' })));
    store.dispatch(newSocketMsg(note(2, { read: true })));
    store.dispatch(notificationUpdated({ seq: 3, id: 'n2', entityType: 'export', data: 'Export ready' }));
    expect(selectNotificationById(store.getState(), 'n2')).toMatchObject({ entityType: 'export', data: 'Export ready', read: true, seq: 2 });
    expect(ids(store)).toEqual(['n2', 'n1']);
    // A change's seq is not a notification's: lastSeq stays.
    expect(selectLastSeq(store.getState())).toBe(2);
  });

  it('ignores an update for an item it does not hold', () => {
    const store = makeStore();
    store.dispatch(notificationUpdated({ seq: 3, id: 'nope', entityType: 'x', data: null }));
    expect(ids(store)).toEqual([]);
  });
});

describe('remove', () => {
  it('removes items from the lists and takes the server’s unread count', () => {
    const store = makeStore();
    store.dispatch(sync(0, 0));
    for (const seq of [1, 2, 3]) store.dispatch(newSocketMsg(note(seq)));
    expect(selectUnreadCount(store.getState())).toBe(3);
    store.dispatch(notificationRemoved({ seq: 4, ids: ['n2'], reason: 'retracted', unread: 2 }));
    expect(ids(store)).toEqual(['n3', 'n1']);
    expect(selectLiveNotifications(store.getState()).map((n) => n.id)).toEqual(['n3', 'n1']);
    expect(selectUnreadCount(store.getState())).toBe(2);
    // A later arrival counts on top.
    store.dispatch(newSocketMsg(note(5)));
    expect(selectUnreadCount(store.getState())).toBe(3);
    expect(selectLastSeq(store.getState())).toBe(5);
  });

  it('corrects the count itself without one (a replay), and a repeat changes nothing', () => {
    const store = makeStore();
    store.dispatch(historyLoaded({ items: [note(2), note(1)], nextCursor: null, first: true }));
    store.dispatch(sync(2, 2));
    const remove = notificationRemoved({ seq: 3, ids: ['n1'], reason: 'expired', replay: true });
    store.dispatch(remove);
    store.dispatch(remove);
    expect(ids(store)).toEqual(['n2']);
    expect(selectUnreadCount(store.getState())).toBe(1);
  });

  it('removes what expired by the clock, and knows when the next one does', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { expiresAt: '2030-01-01T00:00:02.000Z' })));
    store.dispatch(newSocketMsg(note(2, { expiresAt: '2030-01-01T00:00:01.000Z' })));
    store.dispatch(newSocketMsg(note(3)));
    expect(selectNextExpiry(store.getState())).toBe(Date.parse('2030-01-01T00:00:01.000Z'));
    expect(selectExpiredIds(store.getState(), Date.parse('2030-01-01T00:00:01.500Z'))).toEqual(['n2']);
    store.dispatch(notificationsExpired(['n2']));
    expect(ids(store)).toEqual(['n3', 'n1']);
    expect(selectUnreadCount(store.getState())).toBe(2);
  });
});

describe('archive and views', () => {
  it('moves items between views, in every tab, with the server’s count', () => {
    const store = makeStore();
    store.dispatch(sync(0, 0));
    for (const seq of [1, 2, 3]) store.dispatch(newSocketMsg(note(seq, { read: seq === 1 })));
    const view = (v: 'unread' | 'all' | 'archived') => selectViewItems(store.getState(), v).map((n) => n.id);
    expect([view('unread'), view('all'), view('archived')]).toEqual([['n3', 'n2'], ['n3', 'n2', 'n1'], []]);
    store.dispatch(archiveChanged({ ids: ['n2'], archived: true, unread: 1, headSeq: 3 }));
    expect([view('unread'), view('all'), view('archived')]).toEqual([['n3'], ['n3', 'n1'], ['n2']]);
    expect(selectUnreadCount(store.getState())).toBe(1);
    store.dispatch(archiveChanged({ ids: ['n2'], archived: false, unread: 2, headSeq: 3 }));
    expect(view('archived')).toEqual([]);
    expect(selectUnreadCount(store.getState())).toBe(2);
  });

  it('does not count an archived item that arrives above the server’s head', () => {
    const store = makeStore();
    store.dispatch(sync(0, 0));
    store.dispatch(newSocketMsg(note(1, { archived: true })));
    expect(selectUnreadCount(store.getState())).toBe(0);
  });

  it('pages each view on its own, and shows a view no older than its own pages reached', () => {
    const store = makeStore();
    store.dispatch(historyLoaded({ items: [note(9), note(8)], nextCursor: 8, first: true }));
    store.dispatch(historyLoaded({ items: [note(4, { archived: true }), note(2, { archived: true })], nextCursor: null, first: true, view: 'archived' }));
    store.dispatch(historyLoaded({ items: [note(9), note(3)], nextCursor: 3, first: true, view: 'unread' }));
    expect(selectHistory(store.getState())).toEqual({ nextCursor: 8, status: 'loaded', complete: false });
    expect(selectHistory(store.getState(), 'archived')).toMatchObject({ complete: true });
    // n3 came with the Unread view's page: the All view shows it once its own pages reach it.
    expect(selectViewItems(store.getState(), 'all').map((n) => n.id)).toEqual(['n9', 'n8']);
    expect(selectViewItems(store.getState(), 'unread').map((n) => n.id)).toEqual(['n9', 'n8', 'n3']);
    expect(selectViewItems(store.getState(), 'archived').map((n) => n.id)).toEqual(['n4', 'n2']);
    // Only the All view's first page moves lastSeq.
    expect(selectLastSeq(store.getState())).toBe(9);
  });

  it('takes a page’s copy whole: an item the page shows unarchived is no longer archived', () => {
    const store = makeStore();
    store.dispatch(newSocketMsg(note(1, { archived: true })));
    store.dispatch(historyLoaded({ items: [note(1)], nextCursor: null, first: true }));
    expect(selectNotificationById(store.getState(), 'n1')?.archived).toBeUndefined();
  });
});

describe('mute', () => {
  it('does not count a muted type that arrives, and lists it still', () => {
    const store = makeStore();
    store.dispatch(sync(0, 0, ['like']));
    expect(selectMutedTypes(store.getState())).toEqual(['like']);
    store.dispatch(newSocketMsg(note(1)));
    store.dispatch(newSocketMsg(note(2, { entityType: 'comment' })));
    expect(selectUnreadCount(store.getState())).toBe(1);
    expect(ids(store)).toEqual(['n2', 'n1']);
    expect(selectKnownTypes(store.getState())).toEqual(['comment', 'like']);
  });

  it('moves held items the server counted in or out of the count when the preferences change', () => {
    const store = makeStore();
    store.dispatch(historyLoaded({ items: [note(2), note(1, { entityType: 'comment' })], nextCursor: null, first: true }));
    store.dispatch(sync(2, 2));
    store.dispatch(preferencesChanged({ mutedTypes: ['like'] }));
    expect(selectUnreadCount(store.getState())).toBe(1);
    store.dispatch(preferencesChanged({ mutedTypes: [] }));
    expect(selectUnreadCount(store.getState())).toBe(2);
  });

  it('takes the server\u2019s count under new preferences, which covers unread items this tab does not hold', () => {
    const store = makeStore();
    // 40 unread on the server, 2 of them held here; muting "like" leaves 12, as the server counts.
    store.dispatch(historyLoaded({ items: [note(40), note(39, { entityType: 'comment' })], nextCursor: 39, first: true }));
    store.dispatch(sync(40, 40));
    store.dispatch(preferencesChanged({ mutedTypes: ['like'], unread: 12, headSeq: 40 }));
    expect(selectUnreadCount(store.getState())).toBe(12);
    // A push above the count's head still adds to it.
    store.dispatch(newSocketMsg(note(41, { entityType: 'comment' })));
    expect(selectUnreadCount(store.getState())).toBe(13);
    // A count older than the one held (a late answer) leaves the count as the held items move it.
    store.dispatch(preferencesChanged({ mutedTypes: [], unread: 0, headSeq: 39 }));
    expect(selectMutedTypes(store.getState())).toEqual([]);
    expect(selectUnreadCount(store.getState())).toBe(14);
  });

  it('moves a held item in or out of the count when an update changes its type to or from a muted one', () => {
    const store = makeStore();
    store.dispatch(historyLoaded({ items: [note(2), note(1, { entityType: 'comment' })], nextCursor: null, first: true }));
    // The server counts only the comment: the like is muted.
    store.dispatch(sync(1, 2, ['like']));
    expect(selectUnreadCount(store.getState())).toBe(1);
    store.dispatch(notificationUpdated({ seq: 3, id: 'n1', entityType: 'like', data: {} }));
    expect(selectUnreadCount(store.getState())).toBe(0);
    store.dispatch(notificationUpdated({ seq: 4, id: 'n2', entityType: 'comment', data: {} }));
    expect(selectUnreadCount(store.getState())).toBe(1);
  });

  it('takes the server\u2019s count with an update that carries one, for an item the tab holds or not', () => {
    const store = makeStore();
    store.dispatch(historyLoaded({ items: [note(2), note(1)], nextCursor: null, first: true }));
    store.dispatch(sync(5, 2));
    // An item beyond the loaded page became a muted type: only the server knows the count moved.
    store.dispatch(notificationUpdated({ seq: 6, id: 'elsewhere', entityType: 'marketing', data: {}, unread: 4 }));
    expect(selectUnreadCount(store.getState())).toBe(4);
    // A held one: the server's count is taken as it is, not moved again by the tab.
    store.dispatch(sync(4, 6, ['like']));
    store.dispatch(notificationUpdated({ seq: 7, id: 'n1', entityType: 'like', data: {}, unread: 3 }));
    expect(selectUnreadCount(store.getState())).toBe(3);
    // A push above the count's head still adds to it.
    store.dispatch(newSocketMsg(note(8, { entityType: 'comment' })));
    expect(selectUnreadCount(store.getState())).toBe(4);
  });

  it('forgets the muted types when a sync says nothing is muted', () => {
    const store = makeStore();
    store.dispatch(sync(0, 0, ['like']));
    store.dispatch(sync(0, 0));
    expect(selectMutedTypes(store.getState())).toEqual([]);
  });
});
