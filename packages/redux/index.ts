/**
 * `herald/redux`: Herald's slices for an app with its own Redux store. Mount
 * `heraldReducer` under `herald`, prepend `heraldMiddleware()`, and call
 * `startHerald(store, options)` once a user signs in: every notification then
 * arrives as a `NEW_SOCKET_MSG` action in the app's store, and the selectors
 * below read it. The same slices and wiring run Herald's own page.
 */
import type { HeraldState } from '../../store/herald';
import { selectConnection } from '../../store/connection/slice';
import {
  selectAllNotifications as selectAllAtRoot,
  selectLiveNotifications as selectLiveAtRoot,
  selectNotificationById as selectByIdAtRoot,
  selectUnreadCount as selectUnreadAtRoot,
} from '../../store/notifications/slice';
import { selectToasts as selectToastsAtRoot } from '../../store/toasts/slice';

export { heraldMiddleware, heraldReducer, heraldReducers, makeHeraldStore } from '../../store/herald';
export type { HeraldState, HeraldStore } from '../../store/herald';
export { startHerald } from '../../store/start';
export type { HeraldActions, HeraldSession, StartHeraldOptions, StoreLike } from '../../store/start';
export {
  archiveChanged,
  newSocketMsg,
  notificationRemoved,
  notificationUpdated,
  preferencesChanged,
  readStateChanged,
  signedOut,
  synced,
} from '../../store/notifications/slice';
export type { Notification } from '../../store/notifications/slice';
export type { ConnectionStatus } from '../../store/connection/slice';

/** The type of the action every notification arrives as (`newSocketMsg(n)` makes one). */
export const NEW_SOCKET_MSG = 'NEW_SOCKET_MSG';

/** An app state with Herald's slices under `herald` (`combineReducers({ herald: heraldReducer, … })`). */
export interface WithHerald {
  herald: HeraldState;
}

/** Every notification the store holds, newest first. */
export const selectNotifications = (state: WithHerald) => selectAllAtRoot(state.herald);
/** Those that arrived live since the page opened, newest first. */
export const selectLiveNotifications = (state: WithHerald) => selectLiveAtRoot(state.herald);
export const selectNotificationById = (state: WithHerald, id: string) => selectByIdAtRoot(state.herald, id);
/** The unread count: the server's, plus unread arrivals since. */
export const selectUnreadCount = (state: WithHerald) => selectUnreadAtRoot(state.herald);
/** connecting / live / reconnecting / offline / paused / idle, the last refusal code, and whether this tab leads. */
export const selectHeraldConnection = (state: WithHerald) => selectConnection(state.herald);
/** The toasts this tab's store holds (herald/react's `<Toaster/>` draws them). */
export const selectToasts = (state: WithHerald) => selectToastsAtRoot(state.herald);
