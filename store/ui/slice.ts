import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { InboxView } from '@/lib/contract';
import { signedOut } from '../notifications/slice';

/** The inbox's view: Unread, All (not archived) or Archived. */
export type InboxFilter = InboxView;

export interface UiState {
  inboxOpen: boolean;
  filter: InboxFilter;
  /** The notification the inbox shows in full (its detail view), or null for the list. */
  detailId: string | null;
  /**
   * Whether the server answers `notifications:unread`: unknown until it is first
   * asked; "unavailable" hides every "Mark unread" control.
   */
  markUnread: 'unknown' | 'available' | 'unavailable';
}

const initialState: UiState = { inboxOpen: false, filter: 'all', detailId: null, markUnread: 'unknown' };

const slice = createSlice({
  name: 'ui',
  initialState,
  reducers: {
    /** Opens the inbox, on its list or on one notification's detail view. */
    inboxOpened(state, action: PayloadAction<{ detailId?: string } | undefined>) {
      state.inboxOpen = true;
      state.detailId = action.payload?.detailId ?? null;
    },
    inboxClosed(state) {
      state.inboxOpen = false;
      state.detailId = null;
    },
    filterChanged(state, action: PayloadAction<InboxFilter>) {
      state.filter = action.payload;
    },
    detailOpened(state, action: PayloadAction<string>) {
      state.detailId = action.payload;
    },
    detailClosed(state) {
      state.detailId = null;
    },
    markUnreadAnswered(state, action: PayloadAction<boolean>) {
      state.markUnread = action.payload ? 'available' : 'unavailable';
    },
  },
  extraReducers: (builder) => {
    // What the server supports is known per server, not per user: it outlives a sign-out.
    builder.addCase(signedOut, (state) => ({ ...initialState, markUnread: state.markUnread }));
  },
  selectors: {
    selectInboxOpen: (state) => state.inboxOpen,
    selectInboxFilter: (state) => state.filter,
    selectDetailId: (state) => state.detailId,
    selectMarkUnreadAvailable: (state) => state.markUnread !== 'unavailable',
  },
});

export const { inboxOpened, inboxClosed, filterChanged, detailOpened, detailClosed, markUnreadAnswered } = slice.actions;
export const { selectInboxOpen, selectInboxFilter, selectDetailId, selectMarkUnreadAvailable } = slice.selectors;
export const uiSlice = slice;
export default slice.reducer;
