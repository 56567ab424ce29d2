import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

/**
 * idle: signed out. connecting: first attempt. live: connected and caught up.
 * reconnecting: lost the connection, retrying. offline: the browser is offline,
 * or the server refused us for good (see `error`). paused: every tab of the
 * user has been hidden for a while, so the connection is closed until one is
 * visible again.
 */
export type ConnectionStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'offline' | 'paused';

export interface ConnectionState {
  status: ConnectionStatus;
  userId: string | null;
  /** Last refusal code (e.g. `unauthorized`), cleared when live. */
  error: string | null;
  /** This tab holds the browser's connection (the other tabs of the user go through it). */
  leader: boolean;
}

const initialState: ConnectionState = { status: 'idle', userId: null, error: null, leader: false };

const slice = createSlice({
  name: 'connection',
  initialState,
  reducers: {
    signedIn(state, action: PayloadAction<string>) {
      state.userId = action.payload;
      state.status = 'connecting';
      state.error = null;
    },
    statusChanged(state, action: PayloadAction<{ status: ConnectionStatus; error?: string | null }>) {
      state.status = action.payload.status;
      if (action.payload.error !== undefined) state.error = action.payload.error;
      if (action.payload.status === 'live') state.error = null;
    },
    leaderChanged(state, action: PayloadAction<boolean>) {
      state.leader = action.payload;
    },
    signedOutOfConnection() {
      return initialState;
    },
  },
  selectors: {
    selectConnection: (state) => state,
  },
});

export const { signedIn, statusChanged, leaderChanged, signedOutOfConnection } = slice.actions;
export const { selectConnection } = slice.selectors;
export const connectionSlice = slice;
export default slice.reducer;
