import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

/**
 * idle: signed out. connecting: first attempt. live: connected and caught up.
 * reconnecting: lost the connection, retrying. offline: the browser is offline,
 * or the server refused us for good (see `error`).
 */
export type ConnectionStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface ConnectionState {
  status: ConnectionStatus;
  userId: string | null;
  /** Last refusal code (e.g. `unauthorized`), cleared when live. */
  error: string | null;
}

const initialState: ConnectionState = { status: 'idle', userId: null, error: null };

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
    signedOutOfConnection() {
      return initialState;
    },
  },
  selectors: {
    selectConnection: (state) => state,
  },
});

export const { signedIn, statusChanged, signedOutOfConnection } = slice.actions;
export const { selectConnection } = slice.selectors;
export const connectionSlice = slice;
export default slice.reducer;
