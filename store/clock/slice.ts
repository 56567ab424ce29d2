import { createSlice } from '@reduxjs/toolkit';
import { synced } from '../notifications/slice';

export interface ClockState {
  /** The server's clock minus this browser's, in ms; relative times are computed against the server's. */
  offsetMs: number;
}

const initialState: ClockState = { offsetMs: 0 };

/**
 * Corrects for a browser clock that is wrong: every `notifications:synced`
 * carries the server's time, so "3 minutes ago" is measured on the clock that
 * stamped `createdAt`. Half the message's travel time is the only error left.
 */
const slice = createSlice({
  name: 'clock',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder.addCase(synced, (state, action) => {
      const { serverTime, receivedAt } = action.payload;
      if (Number.isFinite(serverTime) && serverTime > 0) state.offsetMs = serverTime - receivedAt;
    });
  },
  selectors: {
    selectClockOffset: (state) => state.offsetMs,
  },
});

export const { selectClockOffset } = slice.selectors;
export const clockSlice = slice;
export default slice.reducer;
