import { createAsyncThunk, createSlice } from '@reduxjs/toolkit';
import type { AdminAccess, AdminOverview, AdminSession, AdminUser } from '@/lib/contract';
import { AdminApiError, adminApi } from './api';

/**
 * The admin view's state: the session (checking, signed out, signed in), the
 * cluster overview it polls, and the last user lookup. Every call goes through
 * a thunk; a 401 from any of them ends the session in the view.
 */

export interface AdminState {
  session: 'checking' | 'signedOut' | 'signedIn';
  access: Exclude<AdminAccess, 'off'> | null;
  signIn: { busy: boolean; error: string | null };
  /** Why the view went back to sign-in, when it was not the operator's choice. */
  notice: string | null;
  overview: AdminOverview | null;
  /** The last poll failed (the server is down or restarting); the overview shown is the last good one. */
  stale: boolean;
  lookup: { userId: string | null; status: 'idle' | 'loading' | 'done' | 'failed'; user: AdminUser | null; error: string | null };
}

const initialState: AdminState = {
  session: 'checking',
  access: null,
  signIn: { busy: false, error: null },
  notice: null,
  overview: null,
  stale: false,
  lookup: { userId: null, status: 'idle', user: null, error: null },
};

type Rejection = { status: number; message: string };
const rejection = (err: unknown): Rejection =>
  err instanceof AdminApiError ? { status: err.status, message: err.message } : { status: 0, message: (err as Error).message };

export const checkSession = createAsyncThunk<AdminSession | null, void, { rejectValue: Rejection }>('admin/checkSession', async (_, api) => {
  try {
    return await adminApi.session();
  } catch (err) {
    if (err instanceof AdminApiError && err.status === 401) return null;
    return api.rejectWithValue(rejection(err));
  }
});

export const signIn = createAsyncThunk<AdminSession, string, { rejectValue: Rejection }>('admin/signIn', async (token, api) => {
  try {
    return await adminApi.signIn(token);
  } catch (err) {
    return api.rejectWithValue(rejection(err));
  }
});

export const signOut = createAsyncThunk('admin/signOut', async () => {
  await adminApi.signOut().catch(() => undefined);
});

export const pollOverview = createAsyncThunk<AdminOverview, void, { rejectValue: Rejection }>('admin/pollOverview', async (_, api) => {
  try {
    return await adminApi.overview();
  } catch (err) {
    return api.rejectWithValue(rejection(err));
  }
});

export const lookUpUser = createAsyncThunk<AdminUser, string, { rejectValue: Rejection }>('admin/lookUpUser', async (userId, api) => {
  try {
    return await adminApi.user(userId);
  } catch (err) {
    return api.rejectWithValue(rejection(err));
  }
});

const SESSION_ENDED = 'Your admin session ended. Sign in again.';

const slice = createSlice({
  name: 'admin',
  initialState,
  reducers: {},
  extraReducers: (builder) => {
    builder
      .addCase(checkSession.fulfilled, (state, { payload }) => {
        state.session = payload ? 'signedIn' : 'signedOut';
        state.access = payload?.access ?? 'token';
      })
      .addCase(checkSession.rejected, (state, { payload }) => {
        state.session = 'signedOut';
        state.notice = payload?.message ?? 'The server does not answer.';
      })
      .addCase(signIn.pending, (state) => {
        state.signIn = { busy: true, error: null };
      })
      .addCase(signIn.fulfilled, (state, { payload }) => {
        state.signIn = { busy: false, error: null };
        state.session = 'signedIn';
        state.access = payload.access;
        state.notice = null;
      })
      .addCase(signIn.rejected, (state, { payload }) => {
        state.signIn = { busy: false, error: payload?.status === 401 ? 'That admin token is not right.' : (payload?.message ?? 'Sign-in failed.') };
      })
      .addCase(signOut.fulfilled, () => ({ ...initialState, session: 'signedOut' as const }))
      .addCase(pollOverview.fulfilled, (state, { payload }) => {
        state.overview = payload;
        state.stale = false;
      })
      .addCase(pollOverview.rejected, (state, { payload }) => {
        if (payload?.status === 401) return { ...initialState, session: 'signedOut', notice: SESSION_ENDED };
        state.stale = true;
      })
      .addCase(lookUpUser.pending, (state, { meta }) => {
        state.lookup = { userId: meta.arg, status: 'loading', user: state.lookup.user, error: null };
      })
      .addCase(lookUpUser.fulfilled, (state, { payload, meta }) => {
        if (meta.arg !== state.lookup.userId) return;
        state.lookup = { userId: meta.arg, status: 'done', user: payload, error: null };
      })
      .addCase(lookUpUser.rejected, (state, { payload, meta }) => {
        if (payload?.status === 401) return { ...initialState, session: 'signedOut', notice: SESSION_ENDED };
        if (meta.arg !== state.lookup.userId) return;
        state.lookup = { userId: meta.arg, status: 'failed', user: null, error: payload?.message ?? 'The lookup failed.' };
      });
  },
  selectors: {
    selectAdmin: (state) => state,
    selectOverview: (state) => state.overview,
    selectLookup: (state) => state.lookup,
  },
});

export const { selectAdmin, selectOverview, selectLookup } = slice.selectors;
export const adminSlice = slice;
export default slice.reducer;
