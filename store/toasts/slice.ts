import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { newSocketMsg, signedOut, synced } from '../notifications/slice';

/** Most toasts kept queued; older ones are dropped (they stay in the inbox). */
export const MAX_QUEUED_TOASTS = 50;

export type Toast =
  | { id: string; kind: 'notification'; notificationId: string }
  | { id: string; kind: 'summary'; count: number; reason: 'away' | 'unread' };

export interface ToastsState {
  items: Toast[];
  /** Notification ids already toasted, so a redelivery never toasts twice. */
  toasted: string[];
}

const initialState: ToastsState = { items: [], toasted: [] };

const slice = createSlice({
  name: 'toasts',
  initialState,
  reducers: {
    toastDismissed(state, action: PayloadAction<string>) {
      state.items = state.items.filter((t) => t.id !== action.payload);
    },
  },
  extraReducers: (builder) => {
    builder
      .addCase(newSocketMsg, (state, action) => {
        const n = action.payload;
        // Caught-up notifications are summarized once `synced` arrives, not toasted one by one.
        if (('replay' in n && n.replay) || state.toasted.includes(n.id)) return;
        state.toasted.push(n.id);
        if (state.toasted.length > MAX_QUEUED_TOASTS * 4) state.toasted.splice(0, MAX_QUEUED_TOASTS * 2);
        state.items.unshift({ id: `n:${n.id}`, kind: 'notification', notificationId: n.id });
        state.items.splice(MAX_QUEUED_TOASTS);
      })
      .addCase(synced, (state, action) => {
        const { replayed, unread, firstVisit, summaryId } = action.payload;
        const summary =
          replayed > 0
            ? { count: replayed, reason: 'away' as const }
            : firstVisit && unread > 0
              ? { count: unread, reason: 'unread' as const }
              : null;
        if (summary) state.items.unshift({ id: `summary:${summaryId}`, kind: 'summary', ...summary });
      })
      .addCase(signedOut, () => initialState);
  },
  selectors: {
    selectToasts: (state) => state.items,
  },
});

export const { toastDismissed } = slice.actions;
export const { selectToasts } = slice.selectors;
export const toastsSlice = slice;
export default slice.reducer;
