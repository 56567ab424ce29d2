import { combineReducers, configureStore } from '@reduxjs/toolkit';
import clock from './clock/slice';
import connection from './connection/slice';
import notifications from './notifications/slice';
import { tabRelayMiddleware, type TabRelay } from './tabs';
import toasts from './toasts/slice';
import ui from './ui/slice';

/**
 * Herald's part of a Redux store: the slices every Herald component reads
 * (notifications, toasts, connection, clock, ui). The demo's store holds them
 * at its root beside its own; herald/redux's `heraldReducer` holds them under
 * one key of an app's store; `makeHeraldStore` is a store of them alone, for
 * `<HeraldProvider>` in an app without Redux.
 */
export const heraldReducers = { notifications, connection, toasts, clock, ui };

export const heraldReducer = combineReducers(heraldReducers);

export type HeraldState = ReturnType<typeof heraldReducer>;

/**
 * The middleware that shares toast dismissals between the tabs of a user
 * (store/tabs.ts), with the relay `startHerald` points at the other tabs.
 */
export function heraldMiddleware() {
  const tabs: TabRelay = { relay: null };
  return Object.assign(tabRelayMiddleware(tabs), { tabs });
}

/** A store of Herald's slices alone, one per provider (never a module-level global). */
export function makeHeraldStore() {
  const middleware = heraldMiddleware();
  const store = configureStore({ reducer: heraldReducer, middleware: (getDefault) => getDefault().prepend(middleware) });
  return Object.assign(store, { tabs: middleware.tabs });
}

export type HeraldStore = ReturnType<typeof makeHeraldStore>;
