import { combineReducers, configureStore } from '@reduxjs/toolkit';
import clock from './clock/slice';
import connection from './connection/slice';
import notifications from './notifications/slice';
import toasts from './toasts/slice';
import ui from './ui/slice';

const rootReducer = combineReducers({ notifications, connection, toasts, clock, ui });

export type RootState = ReturnType<typeof rootReducer>;

/** One store per browser tab (and per test): never a module-level global. */
export function makeStore(preloadedState?: Partial<RootState>) {
  return configureStore({ reducer: rootReducer, preloadedState });
}

export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore['dispatch'];
