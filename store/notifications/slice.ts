import { createAction, createEntityAdapter, createSelector, createSlice, nanoid, type PayloadAction } from '@reduxjs/toolkit';
import type { ReadChange } from '@/lib/client/socket';
import type {
  ArchiveState,
  InboxView,
  ListPage,
  NotificationRemove,
  NotificationUpdate,
  Preferences,
  PreferencesState,
  ReplayedNotification,
  SyncDone,
  WireNotification,
} from '@/lib/contract';

/** The action the socket bridge dispatches for every `receive_message`. Its type is exactly `NEW_SOCKET_MSG`. */
export const newSocketMsg = createAction<WireNotification | ReplayedNotification>('NEW_SOCKET_MSG');

/** `notification:update`: an item's content changed; read state and position stay. */
export const notificationUpdated = createAction<NotificationUpdate>('notifications/updated');
/** `notification:remove`: items left the inbox (retracted, expired, collapsed into a newer one). */
export const notificationRemoved = createAction<NotificationRemove>('notifications/removed');
/** Held items whose `expiresAt` passed on the server's clock, removed before (or without) the server's remove event. */
export const notificationsExpired = createAction<string[]>('notifications/expired');
/** `notifications:archived` (from any tab), or the answer to this tab's `notifications:archive`. */
export const archiveChanged = createAction<ArchiveState>('notifications/archiveChanged');
/** `notifications:preferences` (from any tab or the backend), or the answer to this tab's; the server's count under them when it sent one. */
export const preferencesChanged = createAction<Preferences & Partial<Pick<PreferencesState, 'unread' | 'headSeq'>>>('notifications/preferencesChanged');

/** A notification as the store holds it: the wire's, without the live-only `replaces`. */
export type Notification = Omit<WireNotification, 'replaces'>;

/** One inbox view's paging: each view (unread, all, archived) loads its own pages. */
export interface ViewHistory {
  nextCursor: number | null;
  status: 'idle' | 'loading' | 'loaded' | 'error';
  complete: boolean;
}

const adapter = createEntityAdapter<Notification>({
  // Newest first; seq is the server's order, createdAt only breaks ties between stores.
  sortComparer: (a, b) => b.seq - a.seq || b.createdAt.localeCompare(a.createdAt),
});

export interface NotificationsState extends ReturnType<typeof adapter.getInitialState> {
  /** The server's unread count and the seq it covers; unread items above `headSeq` are added to it. */
  base: { unread: number; headSeq: number };
  /** Highest seq seen: sent as `auth.lastSeq` on every (re)connect. */
  lastSeq: number | null;
  /** Ids of notifications that arrived live since the page opened, newest first. */
  liveIds: string[];
  /** Older history paging, per inbox view. */
  history: Record<InboxView, ViewHistory>;
  /** Entity types the user muted: listed, never toasted, not counted as unread. */
  mutedTypes: string[];
}

const idleHistory = (): ViewHistory => ({ nextCursor: null, status: 'idle', complete: false });
const idleHistories = (): Record<InboxView, ViewHistory> => ({ unread: idleHistory(), all: idleHistory(), archived: idleHistory() });

const initialState: NotificationsState = adapter.getInitialState({
  base: { unread: 0, headSeq: 0 },
  lastSeq: null,
  liveIds: [],
  history: idleHistories(),
  mutedTypes: [],
});

/** Whether an item counts in the badge: unread, not archived, not of a muted type (the server counts the same). */
const counts = (n: Notification, mutedTypes: readonly string[]): boolean => !n.read && !n.archived && !mutedTypes.includes(n.entityType);

/**
 * Removes held items. One the server's unread count (`base`) covers, and
 * counts, comes off it too, until the server says the count again.
 */
const removeHeld = (state: NotificationsState, ids: readonly string[]) => {
  const gone = new Set<string>();
  for (const id of ids) {
    const n = state.entities[id];
    if (!n) continue;
    gone.add(id);
    if (counts(n, state.mutedTypes) && n.seq <= state.base.headSeq && state.base.unread > 0) state.base.unread--;
  }
  if (gone.size === 0) return;
  adapter.removeMany(state, [...gone]);
  state.liveIds = state.liveIds.filter((id) => !gone.has(id));
};

/**
 * A held item the server's count covers (`base`) was counted as `was` is under
 * the current muted types, and now counts as `now` does under `mutedTypes`: the
 * count moves by one when the two differ.
 */
const recount = (state: NotificationsState, was: Notification, now: Notification, mutedTypes: readonly string[]) => {
  if (was.seq > state.base.headSeq) return;
  const before = counts(was, state.mutedTypes);
  const after = counts(now, mutedTypes);
  if (before && !after) state.base.unread = Math.max(0, state.base.unread - 1);
  else if (!before && after) state.base.unread++;
};

const raiseLastSeq = (state: NotificationsState, seq: number | undefined) => {
  if (seq !== undefined && (state.lastSeq === null || seq > state.lastSeq)) state.lastSeq = seq;
};

/** Drops the per-socket `replay` flag and the live-only `replaces`, so stored items are plain notifications. */
const stored = (n: WireNotification | ReplayedNotification): Notification => ({
  id: n.id,
  seq: n.seq,
  entityType: n.entityType,
  data: n.data,
  createdAt: n.createdAt,
  read: n.read,
  ...(n.collapseKey !== undefined ? { collapseKey: n.collapseKey } : {}),
  ...(n.group ? { group: n.group } : {}),
  ...(n.expiresAt !== undefined ? { expiresAt: n.expiresAt } : {}),
  ...(n.priority ? { priority: n.priority } : {}),
  ...(n.archived ? { archived: true } : {}),
});

/**
 * The held items a new notification takes the place of: those it names in
 * `replaces` (a live collapse), and any older unread, not archived item with its
 * collapse key (a collapse whose removal is still on its way).
 */
export function replacedBy(n: WireNotification, held: Iterable<Notification | undefined>): string[] {
  const ids = new Set(n.replaces ?? []);
  if (n.collapseKey !== undefined) {
    for (const h of held) {
      if (h && h.id !== n.id && h.collapseKey === n.collapseKey && !h.read && !h.archived && h.seq < n.seq) ids.add(h.id);
    }
  }
  ids.delete(n.id);
  return [...ids];
}

const slice = createSlice({
  name: 'notifications',
  initialState,
  reducers: {
    /** Where a returning browser left off (from localStorage), before the first connect. */
    resumeFrom(state, action: PayloadAction<number | null>) {
      state.lastSeq = action.payload;
    },
    synced: {
      reducer(state, action: PayloadAction<SyncDone & { firstVisit: boolean; summaryId: string; receivedAt: number }>) {
        state.base = { unread: action.payload.unread, headSeq: action.payload.headSeq };
        // Absent when nothing is muted.
        state.mutedTypes = action.payload.preferences?.mutedTypes ?? [];
      },
      // The id of the summary toast this sync may raise, and this browser's clock when it arrived
      // (store/clock compares it with serverTime): made here so reducers stay pure.
      prepare: (payload: SyncDone & { firstVisit: boolean }) => ({
        payload: { ...payload, summaryId: nanoid(), receivedAt: Date.now() },
      }),
    },
    /** The server no longer holds what followed our lastSeq: history restarts from the first page. */
    syncReset(state) {
      adapter.removeAll(state);
      state.history = idleHistories();
    },
    /** A read or unread change from this tab's request or from any tab (notifications:state). */
    readStateChanged(state, action: PayloadAction<ReadChange>) {
      const { unread, headSeq, readIds, all, unreadIds = [] } = action.payload;
      state.base = { unread, headSeq };
      adapter.updateMany(
        state,
        unreadIds.filter((id) => id in state.entities).map((id) => ({ id, changes: { read: false } })),
      );
      if (all) {
        for (const id of state.ids) {
          const item = state.entities[id];
          if (item && item.seq <= headSeq) item.read = true;
        }
      } else {
        adapter.updateMany(
          state,
          readIds.filter((id) => id in state.entities).map((id) => ({ id, changes: { read: true } })),
        );
      }
    },
    /** A page of one view (default `all`) is on its way. */
    historyRequested(state, action: PayloadAction<InboxView | undefined>) {
      state.history[action.payload ?? 'all'].status = 'loading';
    },
    historyFailed(state, action: PayloadAction<InboxView | undefined>) {
      state.history[action.payload ?? 'all'].status = 'error';
    },
    historyLoaded(state, action: PayloadAction<ListPage & { first: boolean; view?: InboxView }>) {
      const { items, nextCursor, first, view = 'all' } = action.payload;
      // set, not upsert: a field the page leaves out (archived, group) is gone, not kept from before.
      adapter.setMany(state, items.map(stored));
      // Only the All view's first page is the newest of everything the user holds (archived items aside).
      if (first && view === 'all') raiseLastSeq(state, items[0]?.seq);
      state.history[view] = { nextCursor, status: 'loaded', complete: nextCursor === null };
    },
    signedOut() {
      return initialState;
    },
  },
  extraReducers: (builder) => {
    builder
      .addCase(newSocketMsg, (state, action) => {
        const n = action.payload;
        const isNew = !(n.id in state.entities);
        // A collapse: the group's previous item leaves, and this one takes its place at the top.
        removeHeld(state, replacedBy(n, Object.values(state.entities)));
        // By id: a redelivered notification replaces itself, never shows twice.
        adapter.setOne(state, stored(n));
        raiseLastSeq(state, n.seq);
        if (isNew && !('replay' in n && n.replay)) state.liveIds.unshift(n.id);
      })
      // A change's seq is not raised into lastSeq: a replayed change applies twice harmlessly.
      .addCase(notificationUpdated, (state, action) => {
        const { id, entityType, data, unread, seq } = action.payload;
        const held = state.entities[id];
        // A new type may be muted where the old one was not, or the reverse. The server's count after
        // the change covers everything up to its seq; without one, a held item the count covers moves out of it or in.
        if (unread !== undefined) state.base = { unread, headSeq: Math.max(state.base.headSeq, seq) };
        else if (held) recount(state, held, { ...held, entityType }, state.mutedTypes);
        adapter.updateOne(state, { id, changes: { entityType, data } });
      })
      .addCase(notificationRemoved, (state, action) => {
        const { ids, unread, seq } = action.payload;
        removeHeld(state, ids);
        // The count after the removal covers everything up to the change's seq.
        if (unread !== undefined) state.base = { unread, headSeq: Math.max(state.base.headSeq, seq) };
      })
      .addCase(notificationsExpired, (state, action) => {
        removeHeld(state, action.payload);
      })
      .addCase(archiveChanged, (state, action) => {
        const { ids, archived, unread, headSeq } = action.payload;
        state.base = { unread, headSeq };
        adapter.updateMany(
          state,
          ids.filter((id) => id in state.entities).map((id) => ({ id, changes: { archived } })),
        );
      })
      .addCase(preferencesChanged, (state, action) => {
        const { mutedTypes: next, unread, headSeq } = action.payload;
        if (unread !== undefined && headSeq !== undefined && headSeq >= state.base.headSeq) {
          // The server's count under the new preferences replaces the old one, as a sync's does.
          state.base = { unread, headSeq };
        } else {
          // Without it, move the held items the old count covers in or out of it.
          for (const id of state.ids) {
            const n = state.entities[id];
            if (n) recount(state, n, n, next);
          }
        }
        state.mutedTypes = [...next];
      });
  },
  selectors: {
    selectLastSeq: (state) => state.lastSeq,
    /** One view's paging (default `all`). */
    selectHistory: (state, view: InboxView = 'all') => state.history[view],
    selectMutedTypes: (state) => state.mutedTypes,
    selectUnreadCount: (state) => {
      let extra = 0;
      for (const id of state.ids) {
        const item = state.entities[id];
        if (item && counts(item, state.mutedTypes) && item.seq > state.base.headSeq) extra++;
      }
      return state.base.unread + extra;
    },
  },
});

export const {
  resumeFrom,
  synced,
  syncReset,
  readStateChanged,
  historyRequested,
  historyFailed,
  historyLoaded,
  signedOut,
} = slice.actions;
export const { selectLastSeq, selectHistory, selectMutedTypes, selectUnreadCount } = slice.selectors;

const entitySelectors = adapter.getSelectors((root: { notifications: NotificationsState }) => root.notifications);
export const selectAllNotifications = entitySelectors.selectAll;
export const selectNotificationById = entitySelectors.selectById;
/** Memoized: a new array only when the live ids or the entities change. */
export const selectLiveNotifications = createSelector(
  [(root: { notifications: NotificationsState }) => root.notifications.liveIds, (root: { notifications: NotificationsState }) => root.notifications.entities],
  (ids, entities): Notification[] => ids.flatMap((id) => entities[id] ?? []),
);

type Root = { notifications: NotificationsState };

/** Whether an item belongs in a view: Unread (unread, not archived), All (not archived), Archived. */
export const inView = (n: Notification, view: InboxView): boolean =>
  view === 'archived' ? n.archived === true : !n.archived && (view === 'all' || !n.read);

/**
 * A view's items, newest first: those held that belong in it, down to the
 * oldest its own pages reached (older ones, held from other views' pages,
 * wait for its next page, so the list has no gaps).
 */
export const selectViewItems = createSelector(
  [selectAllNotifications, (root: Root) => root.notifications.history, (_root: Root, view: InboxView) => view],
  (all, history, view): Notification[] => {
    const { nextCursor, complete } = history[view];
    const floor = complete || nextCursor === null ? -Infinity : nextCursor;
    return all.filter((n) => inView(n, view) && n.seq >= floor);
  },
);

/** The soonest `expiresAt` of the held items (ms since the epoch, on the server's clock), or null. */
export const selectNextExpiry = createSelector([(root: Root) => root.notifications.entities], (entities): number | null => {
  let next: number | null = null;
  for (const n of Object.values(entities)) {
    const at = n?.expiresAt === undefined ? NaN : Date.parse(n.expiresAt);
    if (Number.isFinite(at) && (next === null || at < next)) next = at;
  }
  return next;
});

/** Held items whose `expiresAt` is at or before `now` (the server's clock). */
export const selectExpiredIds = (root: Root, now: number): string[] =>
  Object.values(root.notifications.entities).flatMap((n) => (n?.expiresAt !== undefined && Date.parse(n.expiresAt) <= now ? [n.id] : []));

/** The entity types the user can mute: those held, and those muted already, sorted. */
export const selectKnownTypes = createSelector(
  [selectAllNotifications, (root: Root) => root.notifications.mutedTypes],
  (all, muted): string[] => [...new Set([...all.map((n) => n.entityType), ...muted])].sort(),
);

export default slice.reducer;
