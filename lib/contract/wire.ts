/** What travels between Herald and its clients: notifications, pages, read state, requests. */
import type { ErrorBody } from './errors';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface WireNotification {
  id: string;
  /** Strictly increasing for each user; one sequence shared by all users. */
  seq: number;
  entityType: string;
  data: JsonValue;
  /** ISO 8601. */
  createdAt: string;
  read: boolean;
  /** Pushes with the same key merge into one unread item per user (see `group`). */
  collapseKey?: string;
  /** For a collapsed notification: this user's group (its distinct actors). */
  group?: NotificationGroup;
  /** Live only: ids of this user's items this one replaces (a collapse): a toast of one updates in place. */
  replaces?: string[];
  /** ISO 8601: after it, the notification is removed everywhere (`notification:remove`, reason `expired`). */
  expiresAt?: string;
  /** `high`: always toasted, even for a muted type, and the toast stays until dismissed. */
  priority?: 'high';
  /** In this user's Archived view. */
  archived?: boolean;
}

/**
 * The people a collapsed notification stands for, for one user: from
 * `data.actor` of each push merged into it (a string, or an object with `id`
 * and/or `name`), distinct, newest first.
 */
export interface NotificationGroup {
  /** The newest three distinct actors. */
  actors: JsonValue[];
  /** How many distinct actors in all (1 for a group of one). */
  count: number;
  /** How many pushes merged into it. */
  pushes: number;
}

/** Actors a group keeps for telling repeats from new ones; beyond them a returning actor counts again. */
export const MAX_GROUP_ACTORS_KEPT = 50;
/** Actors a wire group shows. */
export const GROUP_ACTORS_SHOWN = 3;

/**
 * `notification:update`: a notification's content changed (`PATCH
 * /api/notifications/{id}`). Read state and position stay as they are.
 */
export interface NotificationUpdate {
  /** The change's own seq, after everything it changes (a replay sends it after the items). */
  seq: number;
  id: string;
  entityType: string;
  data: JsonValue;
  /**
   * The user's unread count after the update (live only), when it changed the
   * type and the user mutes the old type or the new one: the item may have moved
   * into the count or out of it, held by the tab or not.
   */
  unread?: number;
  /** Sent during catch-up. */
  replay?: true;
}

/** Why an item left a user's inbox. */
export type RemoveReason = 'retracted' | 'expired' | 'collapsed';

/** `notification:remove`: these items are gone from the user's inbox and screens. */
export interface NotificationRemove {
  seq: number;
  ids: string[];
  reason: RemoveReason;
  /** The user's unread count after the removal (live only). */
  unread?: number;
  replay?: true;
}

/** A change replayed in catch-up, in seq order after the notifications. */
export type NotificationChange = ({ kind: 'update' } & NotificationUpdate) | ({ kind: 'remove' } & NotificationRemove);

/** `PATCH /api/notifications/{id}`: what replaces the notification's content, for every recipient. */
export interface NotificationPatch {
  data?: JsonValue;
  entityType?: string;
}

/** The answer to a PATCH or DELETE of a notification. */
export interface NotificationChanged {
  id: string;
  /** Recipients whose copy changed (or was removed). */
  recipients: number;
}

/** `notifications:archive`: move items to (or, with `archived: false`, out of) the Archived view. */
export interface ArchiveRequest {
  ids: string[];
  /** Default true. */
  archived?: boolean;
}

/** `notifications:archived`, to every tab of the user, and the archive event's answer. */
export interface ArchiveState {
  /** The ids this change moved. */
  ids: string[];
  archived: boolean;
  unread: number;
  headSeq: number;
}

/** A user's notification preferences (`notifications:preferences`, `/api/users/{id}/preferences`). */
export interface Preferences {
  /** Entity types stored and listed, but never toasted and not counted as unread (a `high` push is toasted still). */
  mutedTypes: string[];
}

/**
 * `notifications:preferences` as the server sends it, and its answer to a tab's
 * request: the preferences, and the user's unread count under them (muted types
 * left out) as of `headSeq`, as a sync gives it. Muting a type changes the count
 * by items a tab may not hold.
 */
export interface PreferencesState extends Preferences {
  unread: number;
  headSeq: number;
}

/** Which items a list page holds: unread (not archived), all (not archived, the default), or archived. */
export type InboxView = 'unread' | 'all' | 'archived';

/** A notification sent during catch-up after (re)connecting, not live. */
export interface ReplayedNotification extends WireNotification {
  replay: true;
}

/** `POST /api/push`, once validated and normalized: recipients de-duplicated, defaults applied. */
export interface PushRequest {
  userIds: string[];
  entityType: string;
  data: JsonValue;
  id?: string;
  /** After `after` seconds, each recipient who has not reached `unless` is escalated (a webhook event). */
  escalate?: { after: number; unless: ReceiptState };
  collapseKey?: string;
  /** Milliseconds since the epoch (from `expiresAt` or `ttl`). */
  expiresAt?: number;
  priority?: 'high';
}

/** The 202 answer to a push. */
export interface PushAccepted {
  id: string;
  /** Distinct users named. */
  recipients: number;
  /** How many of them had at least one live socket. */
  online: number;
}

/**
 * The answer to `POST /api/push/batch`: one result per notification, in the
 * order sent. An item with `error` was not stored; `unavailable` is worth a
 * retry (with the same id), `validation_failed` and `idempotency_conflict` are not.
 */
export interface PushBatchAccepted {
  results: Array<PushAccepted | ErrorBody>;
}

/** `notifications:list`, and the query of the history endpoints. */
export interface ListRequest {
  /** A page's `nextCursor`: items older than it. */
  before?: number;
  limit?: number;
  /** Default `all`. */
  view?: InboxView;
}

export interface ListPage {
  items: WireNotification[];
  /** Pass as `before` to get the next (older) page; null when there is none. */
  nextCursor: number | null;
}

/** `notifications:read`. */
export interface ReadRequest {
  ids: string[];
}

export interface ReadState {
  unread: number;
  /** The unread count covers seqs up to here; a client adds unread ones it holds above it. */
  headSeq: number;
  /** Ids that this change marked read; empty after read-all (then everything is read). */
  readIds: string[];
  /** Ids that this change made unread again (`notifications:unread`). */
  unreadIds?: string[];
  all?: boolean;
}

export interface SyncDone {
  /** How many notifications the catch-up replayed. */
  replayed: number;
  unread: number;
  /** The highest seq the server holds for this user (0 when none). */
  headSeq: number;
  /** The server's clock when it sent this (ms since the epoch): clients correct relative times with it. */
  serverTime: number;
  /** The user's preferences, so a tab knows what not to toast from the start; absent when nothing is muted. */
  preferences?: Preferences;
}

/** The socket.io handshake's `auth`. */
export interface HandshakeAuth {
  token: string;
  /** The highest seq this client holds: catch-up replays everything after it. */
  lastSeq?: number;
}

/** `auth:refresh`. */
export interface RefreshRequest {
  token: string;
}

/** Legacy `user_login`: a token, or (dev auth only) a bare id. */
export type UserLoginRequest =
  | { token: string; lastSeq?: number }
  | { tokenId: string; lastSeq?: number }
  | { userId: string; lastSeq?: number };

/** `notifications:received`: every notification up to this seq reached the client (a cumulative acknowledgement). */
export interface ReceivedRequest {
  upTo: number;
}

/** `notifications:seen`: these notifications were shown on screen, as a toast or an inbox item, in a visible tab. */
export interface SeenRequest {
  ids: string[];
}

/** The answer to a receipt: how many of the user's notifications this event moved on (0 for a repeat). */
export interface ReceiptAck {
  changed: number;
}

/** The states a recipient's copy of a notification reaches, in the order they are usually reached. */
export type ReceiptState = 'delivered' | 'seen' | 'read';
