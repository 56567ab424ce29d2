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
}

const initialState: ToastsState = { items: [], toasted: [], replayed: [], suppressed: false };

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
          return;
        }
        forget(state, new Set(readIds));
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

export const { toastDismissed, toastsExpired } = slice.actions;
export const { selectToasts } = slice.selectors;
export const toastsSlice = slice;
export default slice.reducer;
