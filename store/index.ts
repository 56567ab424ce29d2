import { combineReducers, configureStore } from '@reduxjs/toolkit';
import admin from './admin/slice';
import { heraldMiddleware, heraldReducers } from './herald';

const rootReducer = combineReducers({ ...heraldReducers, admin });

export type RootState = ReturnType<typeof rootReducer>;

/** One store per browser tab (and per test): never a module-level global. */
export function makeStore(preloadedState?: Partial<RootState>) {
  // Its `tabs` relay is where this tab's shared actions go (the socket bridge points it at the other tabs).
  const herald = heraldMiddleware();
  const store = configureStore({
    reducer: rootReducer,
    preloadedState,
    middleware: (getDefault) => getDefault().prepend(herald),
  });
  return Object.assign(store, { tabs: herald.tabs });
}

export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore['dispatch'];
