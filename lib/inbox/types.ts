import type { JsonValue, ListPage, NotificationStatus, ReadState, ReceiptState, WebhookEventType, WireNotification } from '../contract';

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
  /** A page of history, newest first. */
  list(userId: string, opts: { before?: number; limit: number }): Promise<ListPage>;
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
  | { status: 'stored'; notification: WireNotification }
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
