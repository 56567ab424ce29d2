import type {
  ArchiveState,
  InboxView,
  JsonValue,
  ListPage,
  NotificationChange,
  NotificationGroup,
  NotificationPatch,
  NotificationStatus,
  Preferences,
  ReadState,
  ReceiptState,
  WebhookEventType,
  WireNotification,
} from '../contract';

export { IDEMPOTENCY_WINDOW_MS } from './idempotency';

/**
 * The notification store. Every method is async so that a networked store
 * (PostgreSQL) fits behind the same interface as the embedded SQLite one.
 *
 * Model: a notification is stored once with a `seq` from one sequence shared by
 * all users (so a push to many users is one payload), and a delivery row per
 * recipient carries that user's read flag. For each user, seqs strictly increase
 * in commit order.
 */
export interface Inbox {
  readonly kind: 'sqlite' | 'postgres';
  /** Stores a notification for its recipients, or recognizes a repeated idempotency key. */
  append(input: AppendInput): Promise<AppendResult>;
  /** Records the first answer given for an idempotency key, for replays of it. */
  saveResponse(key: string, response: StoredResponse): Promise<void>;
  /** Everything for `userId` after `afterSeq`, oldest first, for catch-up. */
  since(userId: string, afterSeq: number, limit: number): Promise<SinceResult>;
  /** A page of history, newest first, of one view (default `all`: everything not archived). */
  list(userId: string, opts: { before?: number; limit: number; view?: InboxView }): Promise<ListPage>;
  markRead(userId: string, ids: string[]): Promise<ReadState>;
  markAllRead(userId: string): Promise<ReadState>;
  /** Makes these of the user's notifications unread again; `unreadIds` says which were read. */
  markUnread(userId: string, ids: string[]): Promise<ReadState>;
  /**
   * The client holds every one of the user's notifications up to `upTo`: those not
   * marked delivered yet get `deliveredAt = now`. `beyondHead` (nothing changed)
   * when `upTo` is above the user's highest seq.
   */
  markReceived(userId: string, upTo: number, now?: number): Promise<ReceiptChange>;
  /** These of the user's notifications were shown: `seenAt = now` (and `deliveredAt`, if unset). Others' ids are ignored. */
  markSeen(userId: string, ids: string[], now?: number): Promise<ReceiptChange>;
  /** The notification and a page of its recipients' receipts, by user id after `after`; null for an unknown id. */
  status(id: string, opts: { after?: string; limit: number }): Promise<NotificationStatus | null>;
  /** One user's receipts on these of their notifications, by seq; a seq without any receipt yet is absent. */
  receiptsOf(userId: string, seqs: number[]): Promise<Map<number, UserReceipts>>;
  /**
   * After a push with a collapse key is stored (seq `seq`): for each recipient,
   * their unread, not archived item with the same key (if any) is removed, with a
   * `collapsed` change, and the new one becomes the head of the user's group.
   * Committed without its own fsync: a crash in between leaves both items, nothing lost.
   */
  collapse(input: CollapseInput): Promise<CollapseResult>;
  /** Replaces a notification's content for every recipient still holding it; null for an unknown id. */
  update(id: string, patch: NotificationPatch): Promise<UpdateResult | null>;
  /** Removes a notification from every recipient's inbox (or `userId`'s only); null for an unknown id. */
  retract(id: string, userId?: string): Promise<RemoveResult | null>;
  /** Removes notifications whose `expiresAt` is at or before `now` (up to `max`), as a retract would. */
  expireDue(now: number, max: number): Promise<RemoveResult[]>;
  /** Moves the user's items to (or out of) the Archived view. */
  archive(userId: string, ids: string[], archived: boolean): Promise<ArchiveState>;
  preferences(userId: string): Promise<Preferences>;
  setPreferences(userId: string, prefs: Preferences): Promise<Preferences>;
  /** The webhook outbox, in the same store, so its events commit with the changes that cause them. */
  readonly outbox: WebhookOutbox;
  /** Writes a row and commits it: resolves when the store can take writes (readiness), throws when it cannot. */
  probeWrite(): Promise<void>;
  /** Unread count and the head seq it covers, read together. */
  summary(userId: string): Promise<{ unread: number; headSeq: number }>;
  /** Enforces retention; works in small steps so delivery is never blocked for long. */
  sweep(now?: number): Promise<SweepResult>;
  /** Throws when the store is unreachable. */
  ping(): Promise<void>;
  /**
   * Deliveries stored but not yet merged into their users' rows (SQLite's fan-out
   * log); reads include them already. Absent where every row is written at once.
   */
  backlog?(): number;
  close(): Promise<void>;
}

export interface AppendInput {
  id: string;
  userIds: string[];
  entityType: string;
  data: JsonValue;
  /** Milliseconds since the epoch. */
  createdAt: number;
  collapseKey?: string;
  /** Milliseconds since the epoch. */
  expiresAt?: number;
  priority?: 'high';
  idempotency?: { key: string; bodyHash: string };
  /** Escalate each recipient who has not reached `unless` by `createdAt + afterMs`. */
  escalate?: { afterMs: number; unless: ReceiptState };
}

/** What a receipt changed: the ids of the notifications it moved on (a repeat changes none). */
export interface ReceiptChange {
  changed: string[];
  /** The cumulative acknowledgement named a seq above the user's head: refused, nothing changed. */
  beyondHead?: true;
}

export type AppendResult =
  | {
      status: 'stored';
      notification: WireNotification;
      /** With a collapse key, when the store collapsed in the push's own commit (SQLite); else the caller calls `collapse`. */
      collapsed?: CollapseResult['users'];
    }
  | {
      status: 'duplicate';
      id: string;
      recipients: number;
      /** The first answer, when it has been recorded. */
      response: StoredResponse | null;
    };

/** The first answer given for an idempotency key, kept for its replays. */
export interface StoredResponse {
  id: string;
  recipients: number;
  online: number;
}

export interface SinceResult {
  items: WireNotification[];
  /** Updates and removals after `afterSeq`, in seq order: sent after the items. */
  changes: NotificationChange[];
  /** True when the client's position is older than retention kept, or too far behind to replay. */
  reset: boolean;
  /** Highest seq stored for this user; 0 when none. */
  headSeq: number;
}

export interface SweepResult {
  deliveriesDeleted: number;
  notificationsDeleted: number;
  idempotencyDeleted: number;
}

export interface InboxOptions {
  maxPerUser: number;
  ttlDays: number;
  /**
   * Event types written to the webhook outbox, in the transaction of the change
   * that causes them; none when absent (no WEBHOOK_URL). Escalations are stored
   * only when `notification.escalated` is among them.
   */
  webhookEvents?: readonly WebhookEventType[];
}

/** A batch of webhook events leased to one sender. */
export interface ClaimedBatch {
  /** The `webhook-id`: the same on every attempt. */
  id: string;
  /** The JSON body, fixed when the batch was formed. */
  body: string;
  events: number;
  /** Attempts made before this one. */
  attempts: number;
}

/** What became of one attempt to send a batch. */
export type BatchOutcome =
  | { kind: 'done' }
  | { kind: 'retry'; nextAt: number; error: string }
  /** Out of retries, or the receiver answered 410: kept, counted, sent again by `retryFailed`. */
  | { kind: 'failed'; error: string };

export interface OutboxStats {
  /** Events not in a batch yet. */
  events: number;
  /** Batches waiting to be sent or retried. */
  pending: number;
  /** Batches that ran out of retries (or met a 410). */
  failed: number;
}

/**
 * The durable webhook outbox (lib/webhooks sends from it). Receipts and
 * escalations write events in their own transactions; `claim` groups them into
 * batches and leases batches to one sender at a time, so each is sent by one
 * node at a time, and a lease that runs out (a dead node) lets another take it.
 */
export interface WebhookOutbox {
  /**
   * Groups waiting events into batches of at most WEBHOOK_BATCH_MAX (each with
   * its webhook-id and body), then leases up to `max` batches due at `now` to
   * `owner` until `now + leaseMs`.
   */
  claim(opts: { now: number; leaseMs: number; owner: string; max: number }): Promise<ClaimedBatch[]>;
  /** Records an attempt's outcome, if `owner` still holds the batch's lease (else another sender has it now). */
  settle(id: string, owner: string, outcome: BatchOutcome): Promise<void>;
  /** Makes every failed batch due again at `now`, with fresh retries; returns how many. */
  retryFailed(now: number): Promise<number>;
  stats(): Promise<OutboxStats>;
  /**
   * Escalations due at `now` (up to `max`): for each recipient that has not
   * reached its `unless` state, a `notification.escalated` event; each is removed
   * in the same transaction, so it fires once. Returns how many were due.
   */
  escalateDue(now: number, max: number): Promise<number>;
}

/** Observers of the store's work, for metrics; kept apart from InboxOptions, which are sent to worker threads. */
export interface InboxHooks {
  /** Told of every committed append batch: the time from hand-off to commit (seconds) and its number of appends. */
  onCommit?: (seconds: number, appends: number) => void;
}

export interface CollapseInput {
  /** The new notification's seq and id. */
  seq: number;
  id: string;
  userIds: string[];
  collapseKey: string;
  /** `data.actor` of the push, when present. */
  actor?: JsonValue;
}

/** Per recipient: the group the new notification heads, and the ids it replaced. */
export interface CollapseResult {
  users: Array<{ userId: string; group: NotificationGroup; replaces: string[] }>;
}

export interface UpdateResult {
  /** The change's seq. */
  seq: number;
  notification: { id: string; entityType: string; data: JsonValue };
  /** Recipients who hold it. */
  userIds: string[];
  /**
   * When the update changed the type: the holders who mute the old type or the
   * new one, with their unread count after it (a muted type is not counted).
   * Empty otherwise: no one else's count moves.
   */
  recounted: Array<{ userId: string; unread: number }>;
}

export interface RemoveResult {
  id: string;
  /** The change's seq. */
  seq: number;
  /** Each user whose copy was removed, with their unread count after it. */
  users: Array<{ userId: string; unread: number }>;
}

/** One recipient's receipts on one notification, as ISO times or null. */
export interface UserReceipts {
  deliveredAt: string | null;
  seenAt: string | null;
  readAt: string | null;
}
