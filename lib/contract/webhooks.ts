import type { JsonValue, ReceiptState } from './wire';

/**
 * What Herald tells the backend: receipts per recipient, escalations, and the
 * signed webhook batches that carry them (docs/webhooks.md). Browser-safe types
 * only, so a TypeScript receiver may import them too.
 */

/** Every event type a webhook may carry; WEBHOOK_EVENTS picks among them. */
export const WEBHOOK_EVENT_TYPES = ['notification.delivered', 'notification.seen', 'notification.read', 'notification.escalated'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The event of each receipt state. */
export const RECEIPT_EVENT: Readonly<Record<ReceiptState, ReceiptEvent['type']>> = {
  delivered: 'notification.delivered',
  seen: 'notification.seen',
  read: 'notification.read',
};

/** A recipient reached a state; `timestamp` is when (ISO 8601). */
export interface ReceiptEvent {
  type: 'notification.delivered' | 'notification.seen' | 'notification.read';
  id: string;
  userId: string;
  timestamp: string;
}

/** A recipient had not reached `unless` when the push's `escalate.after` ran out. */
export interface EscalatedEvent {
  type: 'notification.escalated';
  id: string;
  userId: string;
  unless: ReceiptState;
  deliveredAt: string | null;
  seenAt: string | null;
  timestamp: string;
}

export type WebhookEvent = ReceiptEvent | EscalatedEvent;

/** One delivery's body: up to WEBHOOK_BATCH_MAX events, in no promised order. */
export interface WebhookBatch {
  type: 'notification.events';
  timestamp: string;
  data: { events: WebhookEvent[] };
}

export const WEBHOOK_BATCH_MAX = 500;

/** A push's `escalate`: after `after` seconds, each recipient who has not reached `unless` is escalated. */
export interface EscalateRequest {
  after: number;
  unless?: ReceiptState;
}
export const MIN_ESCALATE_AFTER_SECONDS = 10;
export const MAX_ESCALATE_AFTER_SECONDS = 604_800;

/** One recipient's receipts in `GET /api/notifications/:id` (null: not reached). */
export interface RecipientStatus {
  userId: string;
  deliveredAt: string | null;
  seenAt: string | null;
  readAt: string | null;
}

/** `GET /api/notifications/:id`: the notification and a page of its recipients, by user id. */
export interface NotificationStatus {
  notification: { id: string; seq: number; entityType: string; data: JsonValue; createdAt: string };
  recipients: RecipientStatus[];
  /** Pass as `after` for the next page of recipients; null when there is none. */
  nextCursor: string | null;
}
