import type { Ack, ErrorCode } from './errors';
import type {
  ArchiveRequest,
  ArchiveState,
  ListPage,
  NotificationRemove,
  NotificationUpdate,
  Preferences,
  PreferencesState,
  ListRequest,
  ReadRequest,
  ReadState,
  ReceiptAck,
  ReceivedRequest,
  RefreshRequest,
  SeenRequest,
  ReplayedNotification,
  SyncDone,
  UserLoginRequest,
  WireNotification,
} from './wire';

/** socket.io's typed event maps: every event either side emits or handles. */
export interface ServerToClientEvents {
  /** A notification for this user: live, or (with `replay: true`) caught up after a reconnect. */
  receive_message: (n: WireNotification | ReplayedNotification) => void;
  /** Catch-up finished: everything after the client's `lastSeq` has been sent. */
  'notifications:synced': (s: SyncDone) => void;
  /** The client's `lastSeq` is older than retention kept: reload the first inbox page. */
  sync_reset: (s: { headSeq: number }) => void;
  /** Read state changed (from any tab of this user). */
  'notifications:state': (s: ReadState) => void;
  /** A notification's content changed: update it in place (inbox item and any toast). */
  'notification:update': (u: NotificationUpdate) => void;
  /** Notifications left the user's inbox (retracted, expired, collapsed into a newer one): remove them everywhere. */
  'notification:remove': (r: NotificationRemove) => void;
  /** Items moved to or out of the Archived view (from any tab of this user). */
  'notifications:archived': (s: ArchiveState) => void;
  /** The user's preferences changed (from any tab, or the backend). */
  'notifications:preferences': (p: PreferencesState) => void;
  /** Sent just before the server cuts this socket off (token expired, over a limit). */
  'herald:error': (e: { code: ErrorCode; message: string }) => void;
}

/** The event that carries a notification: live, replayed, released by the delivery gate. */
export const NOTIFICATION_EVENT = 'receive_message' satisfies keyof ServerToClientEvents;

/**
 * The events that change what a user holds, each with a seq: delivered through
 * the same gate as notifications, so a catch-up and live changes never cross.
 */
export const CHANGE_EVENTS = ['notification:update', 'notification:remove'] as const satisfies ReadonlyArray<keyof ServerToClientEvents>;
export type ChangeEvent = (typeof CHANGE_EVENTS)[number];

export interface ClientToServerEvents {
  /** Page back through history, newest first. */
  'notifications:list': (req: ListRequest, ack: (res: Ack<ListPage>) => void) => void;
  /** Mark some notifications read. */
  'notifications:read': (req: ReadRequest, ack: (res: Ack<ReadState>) => void) => void;
  /** Make some notifications unread again. */
  'notifications:unread': (req: ReadRequest, ack: (res: Ack<ReadState>) => void) => void;
  /** Every notification up to `upTo` reached this client (a cumulative ack; clients batch them, ~250 ms). Idempotent. */
  'notifications:received': (req: ReceivedRequest, ack?: (res: Ack<ReceiptAck>) => void) => void;
  /** These notifications were shown in a visible tab (toast or inbox item). Idempotent. */
  'notifications:seen': (req: SeenRequest, ack?: (res: Ack<ReceiptAck>) => void) => void;
  /** Mark every notification read (no payload, or `{}`). */
  'notifications:read-all': (ack: (res: Ack<ReadState>) => void) => void;
  /** Move items to the Archived view, or out of it (`archived: false`). */
  'notifications:archive': (req: ArchiveRequest, ack: (res: Ack<ArchiveState>) => void) => void;
  /** Read the user's preferences (`{}`), or replace them (`{ mutedTypes }`); the answer is what holds now. */
  'notifications:preferences': (req: Partial<Preferences>, ack: (res: Ack<PreferencesState>) => void) => void;
  /** A fresh token for the same user, so a long-lived tab stays signed in without reconnecting. */
  'auth:refresh': (req: RefreshRequest, ack: (res: Ack<{ exp: number }>) => void) => void;
  /** Legacy: (re)bind this socket's identity. */
  user_login: (req: UserLoginRequest, ack?: (res: Ack<{ userId: string }>) => void) => void;
}
