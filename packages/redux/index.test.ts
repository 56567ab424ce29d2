import { combineReducers, configureStore, createSlice } from '@reduxjs/toolkit';
import { describe, expect, it } from 'vitest';
import type { WireNotification } from '../../lib/contract';
import {
  heraldMiddleware,
  heraldReducer,
  NEW_SOCKET_MSG,
  newSocketMsg,
  readStateChanged,
  selectHeraldConnection,
  selectLiveNotifications,
  selectNotifications,
  selectUnreadCount,
} from './index';

/** An app's own slice beside Herald's, to show the two share one store and one action stream. */
const seen = createSlice({
  name: 'seen',
  initialState: { actions: [] as string[] },
  reducers: {},
  extraReducers: (builder) => builder.addMatcher(() => true, (state, action) => void state.actions.push(action.type)),
});

function appStore() {
  const herald = heraldMiddleware();
  const store = configureStore({
    reducer: combineReducers({ herald: heraldReducer, seen: seen.reducer }),
    middleware: (getDefault) => getDefault().prepend(herald),
  });
  return { store, herald };
}

const notification = (seq: number, read = false): WireNotification => ({
  id: `n${seq}`,
  seq,
  entityType: 'comment',
  data: { actor: 'Bob' },
  createdAt: new Date(1_700_000_000_000 + seq).toISOString(),
  read,
});

describe('herald/redux in an app store', () => {
  it('a notification arrives as NEW_SOCKET_MSG, which the app sees too, and the selectors read it under `herald`', () => {
    const { store } = appStore();
    expect(newSocketMsg(notification(1)).type).toBe(NEW_SOCKET_MSG);
    store.dispatch(newSocketMsg(notification(1)));
    store.dispatch(newSocketMsg(notification(2)));
    // A redelivery replaces itself.
    store.dispatch(newSocketMsg(notification(2)));

    const state = store.getState();
    expect(state.seen.actions.filter((t) => t === NEW_SOCKET_MSG)).toHaveLength(3);
    expect(selectNotifications(state).map((n) => n.id)).toEqual(['n2', 'n1']);
    expect(selectLiveNotifications(state).map((n) => n.id)).toEqual(['n2', 'n1']);
    expect(selectUnreadCount(state)).toBe(2);
    expect(selectHeraldConnection(state).status).toBe('idle');
  });

  it('a read change lowers the unread count', () => {
    const { store } = appStore();
    store.dispatch(newSocketMsg(notification(1)));
    store.dispatch(newSocketMsg(notification(2)));
    store.dispatch(readStateChanged({ unread: 1, headSeq: 2, readIds: ['n2'], all: false }));
    expect(selectUnreadCount(store.getState())).toBe(1);
    expect(selectNotifications(store.getState()).find((n) => n.id === 'n2')?.read).toBe(true);
  });

  it('heraldMiddleware hands toast dismissals to the tab relay startHerald sets', () => {
    const { store, herald } = appStore();
    const relayed: unknown[] = [];
    herald.tabs.relay = (action) => relayed.push(action);
    store.dispatch({ type: 'toasts/toastDismissed', payload: 'n:n1' });
    store.dispatch(newSocketMsg(notification(3)));
    expect(relayed).toEqual([{ type: 'toasts/toastDismissed', payload: 'n:n1' }]);
  });
});
