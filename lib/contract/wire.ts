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
}

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
