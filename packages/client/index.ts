/**
 * `herald/client`: the browser's connection to Herald, without React. One
 * socket per browser and user, held by the leader tab (Web Locks) and shared
 * with the others (BroadcastChannel); `lastSeq` kept in localStorage, so a
 * returning page catches up from where it left off; typed events. socket.io-client
 * is a peer dependency. docs/client.md describes how the tabs share.
 */
export { createHeraldClient, HeraldRequestError } from '../../lib/client/herald';
export type { HeraldBrowserClient, HeraldClientEvents, HeraldClientOptions, Synced } from '../../lib/client/herald';
export { canShare, connectHerald, DEFAULT_IDLE_DISCONNECT_MS } from '../../lib/client/connection';
export type { ConnectionEvents, ConnectionOptions, ConnectionStatus, HeraldConnection } from '../../lib/client/connection';
export { readLastSeq, writeLastSeq } from '../../lib/client/last-seq';
export type { Presence } from '../../lib/client/tabs';
export { isSafeLink, NOTIFICATION_EVENT } from '../../lib/contract';
export type {
  Ack,
  ArchiveState,
  ClientToServerEvents,
  ErrorCode,
  InboxView,
  JsonValue,
  ListPage,
  ListRequest,
  NotificationGroup,
  NotificationRemove,
  NotificationUpdate,
  Preferences,
  ReadState,
  ReplayedNotification,
  ServerToClientEvents,
  SyncDone,
  WireNotification,
} from '../../lib/contract';
