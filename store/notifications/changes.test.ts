import { describe, expect, it } from 'vitest';
import type { WireNotification } from '@/lib/contract';
import { makeStore } from '../index';
import {
  archiveChanged,
  historyLoaded,
  newSocketMsg,
  notificationRemoved,
  notificationsExpired,
  notificationUpdated,
  preferencesChanged,
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
  synced,
} from './slice';

/** Issue 23 in the store: notifications that change after delivery. */

const note = (seq: number, over: Partial<WireNotification> = {}): WireNotification => ({
  id: `n${seq}`,
  seq,
  entityType: 'like',
  data: { actor: 'Alice', target: 'Shipping Herald' },
  createdAt: new Date(Date.UTC(2025, 0, 1) + seq * 1000).toISOString(),
  read: false,
  ...over,
});
const sync = (unread: number, headSeq: number, mutedTypes?: string[]) =>
  synced({ replayed: 0, unread, headSeq, serverTime: 0, firstVisit: false, ...(mutedTypes ? { preferences: { mutedTypes } } : {}) });

type Store = ReturnType<typeof makeStore>;
const ids = (store: Store) => selectAllNotifications(store.getState()).map((n) => n.id);

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

  it('forgets the muted types when a sync says nothing is muted', () => {
    const store = makeStore();
    store.dispatch(sync(0, 0, ['like']));
    store.dispatch(sync(0, 0));
    expect(selectMutedTypes(store.getState())).toEqual([]);
  });
});
