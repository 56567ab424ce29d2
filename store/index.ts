import { combineReducers, configureStore } from '@reduxjs/toolkit';
import admin from './admin/slice';
import clock from './clock/slice';
import connection from './connection/slice';
import notifications from './notifications/slice';
import toasts from './toasts/slice';
import { tabRelayMiddleware, type TabRelay } from './tabs';
import ui from './ui/slice';

const rootReducer = combineReducers({ notifications, connection, toasts, clock, ui, admin });

export type RootState = ReturnType<typeof rootReducer>;

/** One store per browser tab (and per test): never a module-level global. */
export function makeStore(preloadedState?: Partial<RootState>) {
  // Where this tab's shared actions go (the socket bridge points it at the other tabs).
  const tabs: TabRelay = { relay: null };
  const store = configureStore({
    reducer: rootReducer,
    preloadedState,
    middleware: (getDefault) => getDefault().prepend(tabRelayMiddleware(tabs)),
  });
  return Object.assign(store, { tabs });
}

export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore['dispatch'];
