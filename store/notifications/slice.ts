import { createAction, createEntityAdapter, createSelector, createSlice, nanoid, type PayloadAction } from '@reduxjs/toolkit';
import type { ReadChange } from '@/lib/client/socket';
import type { ListPage, ReplayedNotification, SyncDone, WireNotification } from '@/lib/contract';

/** The action the socket bridge dispatches for every `receive_message`. Its type is exactly `NEW_SOCKET_MSG`. */
export const newSocketMsg = createAction<WireNotification | ReplayedNotification>('NEW_SOCKET_MSG');

export type Notification = WireNotification;

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
  /** Older history paging. */
  history: { nextCursor: number | null; status: 'idle' | 'loading' | 'loaded' | 'error'; complete: boolean };
}

const initialState: NotificationsState = adapter.getInitialState({
  base: { unread: 0, headSeq: 0 },
  lastSeq: null,
  liveIds: [],
  history: { nextCursor: null, status: 'idle', complete: false },
});

const raiseLastSeq = (state: NotificationsState, seq: number | undefined) => {
  if (seq !== undefined && (state.lastSeq === null || seq > state.lastSeq)) state.lastSeq = seq;
};

/** Drops the per-socket `replay` flag so stored items are plain notifications. */
const stored = (n: WireNotification | ReplayedNotification): Notification => ({
  id: n.id,
  seq: n.seq,
  entityType: n.entityType,
  data: n.data,
  createdAt: n.createdAt,
  read: n.read,
});

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
      state.history = { nextCursor: null, status: 'idle', complete: false };
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
    historyRequested(state) {
      state.history.status = 'loading';
    },
    historyFailed(state) {
      state.history.status = 'error';
    },
    historyLoaded(state, action: PayloadAction<ListPage & { first: boolean }>) {
      const { items, nextCursor, first } = action.payload;
      adapter.upsertMany(state, items);
      if (first) raiseLastSeq(state, items[0]?.seq);
      state.history = { nextCursor, status: 'loaded', complete: nextCursor === null };
    },
    signedOut() {
      return initialState;
    },
  },
  extraReducers: (builder) => {
    builder.addCase(newSocketMsg, (state, action) => {
      const n = action.payload;
      const isNew = !(n.id in state.entities);
      // upsert: a redelivered notification replaces itself, never shows twice.
      adapter.upsertOne(state, stored(n));
      raiseLastSeq(state, n.seq);
      if (isNew && !('replay' in n && n.replay)) state.liveIds.unshift(n.id);
    });
  },
  selectors: {
    selectLastSeq: (state) => state.lastSeq,
    selectHistory: (state) => state.history,
    selectUnreadCount: (state) => {
      let extra = 0;
      for (const id of state.ids) {
        const item = state.entities[id];
        if (item && !item.read && item.seq > state.base.headSeq) extra++;
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
export const { selectLastSeq, selectHistory, selectUnreadCount } = slice.selectors;

const entitySelectors = adapter.getSelectors((root: { notifications: NotificationsState }) => root.notifications);
export const selectAllNotifications = entitySelectors.selectAll;
export const selectNotificationById = entitySelectors.selectById;
/** Memoized: a new array only when the live ids or the entities change. */
export const selectLiveNotifications = createSelector(
  [(root: { notifications: NotificationsState }) => root.notifications.liveIds, (root: { notifications: NotificationsState }) => root.notifications.entities],
  (ids, entities): Notification[] => ids.flatMap((id) => entities[id] ?? []),
);

export default slice.reducer;
