import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { newSocketMsg, readStateChanged, signedOut, synced } from '../notifications/slice';
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
 */
export type Toast =
  | { id: string; kind: 'notification'; notificationId: string; seq: number }
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
}

const initialState: ToastsState = { items: [], toasted: [], replayed: [], suppressed: false, owner: true, anyVisible: true, away: [] };

type Summary = Extract<Toast, { kind: 'summary' }>;
const isSummary = (t: Toast): t is Summary => t.kind === 'summary';

const remember = (state: ToastsState, id: string) => {
  state.toasted.push(id);
  if (state.toasted.length > MAX_TOASTED_IDS) state.toasted.splice(0, state.toasted.length - MAX_TOASTED_IDS);
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
        if ('replay' in n && n.replay) {
          // Caught-up notifications are summarized once `synced` arrives, not toasted one by one.
          if (!n.read && !state.replayed.includes(n.id)) state.replayed.push(n.id);
          return;
        }
        remember(state, n.id);
        if (n.read || state.suppressed) return;
        if (!state.anyVisible) {
          // Nobody is looking: the badge counts it, and the summary on return says so.
          state.away.push(n.id);
          return;
        }
        state.items.unshift({ id: `n:${n.id}`, kind: 'notification', notificationId: n.id, seq: n.seq });
        const shown = state.items.filter((t) => t.kind === 'notification');
        if (shown.length <= VISIBLE_TOASTS) return;
        // A burst: the oldest toast makes room and one summary counts it, instead of a queue
        // that trickles for minutes. The summary stays at the back, behind the newest toasts.
        const oldest = shown[shown.length - 1];
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
      .addCase(synced, (state, action) => {
        const { replayed, unread, firstVisit, summaryId } = action.payload;
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
      .addCase(signedOut, () => initialState);
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
