import { createSlice, isAnyOf, type PayloadAction } from '@reduxjs/toolkit';
import {
  archiveChanged,
  newSocketMsg,
  notificationRemoved,
  notificationsExpired,
  notificationUpdated,
  preferencesChanged,
  readStateChanged,
  signedOut,
  synced,
} from '../notifications/slice';
import { inboxClosed, inboxOpened } from '../ui/slice';

/** Notification toasts at once; each arrival past them moves the oldest into one summary toast. */
export const VISIBLE_TOASTS = 3;
/** Ids remembered as toasted, so a redelivery never toasts twice (the oldest are forgotten). */
const MAX_TOASTED_IDS = 200;

/**
 * A summary stands for many notifications: `away` for what a catch-up replayed,
 * `unread` for the unread count on a first visit, `burst` for toasts that newer
 * arrivals pushed out of a full stack. `ids` are the notifications it counts
 * (unknown for `unread`); `version` changes whenever the count grows, and
 * restarts its countdown.
 *
 * A notification toast keeps its `id` when its notification changes: a collapse
 * points it at the newer notification (`notificationId`), an update redraws it,
 * and either raises `version` (absent: 0), which restarts its countdown. A
 * `sticky` toast (a `priority: "high"` notification) has no countdown.
 */
export type Toast =
  | { id: string; kind: 'notification'; notificationId: string; seq: number; version?: number; sticky?: true; collapseKey?: string }
  | { id: string; kind: 'summary'; reason: 'away' | 'unread' | 'burst'; count: number; ids: string[]; version: number };

export interface ToastsState {
  /** Newest first, then at most one summary: at most VISIBLE_TOASTS notification toasts. */
  items: Toast[];
  /** Notification ids already toasted (or folded), so a redelivery never toasts twice. */
  toasted: string[];
  /** Unread notifications replayed by the catch-up in progress; the `away` summary counts them. */
  replayed: string[];
  /** True while the inbox is open: it shows every arrival, so nothing is toasted. */
  suppressed: boolean;
  /** This tab shows the browser's toasts (the tab the user is looking at; lib/client/tabs.ts). */
  owner: boolean;
  /** Some tab of the user is visible. While none is, arrivals are kept for one summary on return. */
  anyVisible: boolean;
  /** Unread notifications that arrived while no tab was visible. */
  away: string[];
  /** Entity types the user muted: never toasted (unless `priority: "high"`), not counted in summaries. */
  muted: string[];
}

const initialState: ToastsState = { items: [], toasted: [], replayed: [], suppressed: false, owner: true, anyVisible: true, away: [], muted: [] };

type Summary = Extract<Toast, { kind: 'summary' }>;
const isSummary = (t: Toast): t is Summary => t.kind === 'summary';

const remember = (state: ToastsState, id: string) => {
  state.toasted.push(id);
  if (state.toasted.length > MAX_TOASTED_IDS) state.toasted.splice(0, state.toasted.length - MAX_TOASTED_IDS);
};

type NotificationToast = Extract<Toast, { kind: 'notification' }>;

/**
 * Points whatever stands for one of `oldIds` (a toast, a summary's count, the
 * lists kept for summaries) at `newId`, in place. Returns whether anything did.
 */
const takeOver = (state: ToastsState, oldIds: ReadonlySet<string>, collapseKey: string | undefined, n: { id: string; seq: number; sticky: boolean }): boolean => {
  const toast = state.items.find(
    (t): t is NotificationToast => t.kind === 'notification' && (oldIds.has(t.notificationId) || (collapseKey !== undefined && t.collapseKey === collapseKey)),
  );
  if (toast) {
    toast.notificationId = n.id;
    toast.seq = n.seq;
    toast.version = (toast.version ?? 0) + 1;
    if (n.sticky) toast.sticky = true;
    return true;
  }
  const swap = (ids: string[]): boolean => {
    const at = ids.findIndex((id) => oldIds.has(id));
    if (at < 0) return false;
    ids[at] = n.id;
    return true;
  };
  const summary = state.items.find(isSummary);
  if (summary && swap(summary.ids)) return true;
  return swap(state.away) || swap(state.replayed);
};

/** Removes the named notifications from every toast; a summary left counting nothing goes too. */
const forget = (state: ToastsState, readIds: ReadonlySet<string>) => {
  state.items = state.items.filter((t) => {
    if (t.kind === 'notification') return !readIds.has(t.notificationId);
    if (t.reason === 'unread') return true;
    const before = t.ids.length;
    t.ids = t.ids.filter((id) => !readIds.has(id));
    t.count -= before - t.ids.length;
    return t.count > 0;
  });
};

const slice = createSlice({
  name: 'toasts',
  initialState,
  reducers: {
    /** Which tab shows the toasts, and whether any is visible (every tab's store holds the same toasts). */
    toastPresence(state, action: PayloadAction<{ owner: boolean; anyVisible: boolean }>) {
      const { owner, anyVisible } = action.payload;
      state.owner = owner;
      const returning = anyVisible && !state.anyVisible;
      state.anyVisible = anyVisible;
      if (!returning || state.away.length === 0) return;
      const ids = state.away;
      state.away = [];
      if (state.suppressed) return;
      state.items = [
        ...state.items.filter((t) => !isSummary(t)),
        { id: `away:${ids[0] ?? ''}:${ids.length}`, kind: 'summary', reason: 'away', count: ids.length, ids, version: 0 },
      ];
    },
    toastDismissed(state, action: PayloadAction<string>) {
      state.items = state.items.filter((t) => t.id !== action.payload);
    },
    /** Toasts whose countdown ran out. */
    toastsExpired(state, action: PayloadAction<string[]>) {
      const gone = new Set(action.payload);
      state.items = state.items.filter((t) => !gone.has(t.id));
    },
  },
  extraReducers: (builder) => {
    builder
      .addCase(newSocketMsg, (state, action) => {
        const n = action.payload;
        if (state.toasted.includes(n.id)) return;
        const muted = state.muted.includes(n.entityType) && n.priority !== 'high';
        if ('replay' in n && n.replay) {
          // Caught-up notifications are summarized once `synced` arrives, not toasted one by one.
          if (!n.read && !muted && !state.replayed.includes(n.id)) state.replayed.push(n.id);
          return;
        }
        remember(state, n.id);
        // A collapse: the toast (or the summary's count) of the notification it replaces stands for it now.
        if (!n.read && takeOver(state, new Set(n.replaces), n.collapseKey, { id: n.id, seq: n.seq, sticky: n.priority === 'high' })) return;
        if (n.replaces) forget(state, new Set(n.replaces));
        if (n.read || state.suppressed || muted) return;
        if (!state.anyVisible) {
          // Nobody is looking: the badge counts it, and the summary on return says so.
          state.away.push(n.id);
          return;
        }
        state.items.unshift({
          id: `n:${n.id}`,
          kind: 'notification',
          notificationId: n.id,
          seq: n.seq,
          ...(n.priority === 'high' ? { sticky: true as const } : {}),
          ...(n.collapseKey !== undefined ? { collapseKey: n.collapseKey } : {}),
        });
        const shown = state.items.filter((t) => t.kind === 'notification');
        if (shown.length <= VISIBLE_TOASTS) return;
        // A burst: the oldest toast makes room and one summary counts it, instead of a queue
        // that trickles for minutes. The summary stays at the back, behind the newest toasts.
        // A sticky toast stays until it is dismissed: it is never folded.
        const oldest = shown.findLast((t) => t.kind === 'notification' && !t.sticky);
        if (oldest?.kind !== 'notification') return;
        state.items = state.items.filter((t) => t !== oldest);
        const summary = state.items.find(isSummary);
        if (summary) {
          summary.count++;
          summary.version++;
          if (summary.reason !== 'unread') summary.ids.push(oldest.notificationId);
        } else {
          state.items.push({ id: `burst:${oldest.notificationId}`, kind: 'summary', reason: 'burst', count: 1, ids: [oldest.notificationId], version: 0 });
        }
      })
      .addCase(notificationUpdated, (state, action) => {
        // Redrawn in place, with its countdown started over so the new words can be read.
        const toast = state.items.find((t) => t.kind === 'notification' && t.notificationId === action.payload.id);
        if (toast?.kind === 'notification') toast.version = (toast.version ?? 0) + 1;
      })
      .addCase(archiveChanged, (state, action) => {
        if (!action.payload.archived) return;
        const ids = new Set(action.payload.ids);
        forget(state, ids);
        state.away = state.away.filter((id) => !ids.has(id));
      })
      .addCase(preferencesChanged, (state, action) => {
        state.muted = [...action.payload.mutedTypes];
      })
      .addCase(synced, (state, action) => {
        const { replayed, unread, firstVisit, summaryId, preferences } = action.payload;
        state.muted = preferences?.mutedTypes ?? [];
        const ids = state.replayed;
        state.replayed = [];
        for (const id of ids) remember(state, id);
        if (state.suppressed) return;
        const summary: Summary | null =
          replayed > 0 && ids.length > 0
            ? { id: `summary:${summaryId}`, kind: 'summary', reason: 'away', count: ids.length, ids, version: 0 }
            : firstVisit && unread > 0
              ? { id: `summary:${summaryId}`, kind: 'summary', reason: 'unread', count: unread, ids: [], version: 0 }
              : null;
        if (summary) state.items = [...state.items.filter((t) => !isSummary(t)), summary];
      })
      .addCase(readStateChanged, (state, action) => {
        const { all, headSeq, readIds, unread } = action.payload;
        if (all) {
          // Everything up to headSeq is read: so are the notifications every summary counts.
          state.items = state.items.filter((t) => t.kind === 'notification' && t.seq > headSeq);
          state.away = [];
          return;
        }
        forget(state, new Set(readIds));
        state.away = state.away.filter((id) => !readIds.includes(id));
        if (unread === 0) state.items = state.items.filter((t) => !(isSummary(t) && t.reason === 'unread'));
      })
      .addCase(inboxOpened, (state) => {
        state.items = [];
        state.suppressed = true;
      })
      .addCase(inboxClosed, (state) => {
        state.suppressed = false;
      })
      .addCase(signedOut, () => initialState)
      .addMatcher(isAnyOf(notificationRemoved, notificationsExpired), (state, action) => {
        // Gone from the inbox: gone from the screen, and from what summaries count.
        const ids = new Set(Array.isArray(action.payload) ? action.payload : action.payload.ids);
        forget(state, ids);
        state.away = state.away.filter((id) => !ids.has(id));
        state.replayed = state.replayed.filter((id) => !ids.has(id));
      });
  },
  selectors: {
    selectToasts: (state) => state.items,
  },
});

export const { toastDismissed, toastsExpired, toastPresence } = slice.actions;
export const { selectToasts } = slice.selectors;
/** Whether this tab shows the toasts. */
export const selectToastOwner = (state: { toasts: ToastsState }): boolean => state.toasts.owner;
export const toastsSlice = slice;
export default slice.reducer;
