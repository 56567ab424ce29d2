import type { ReceiptState } from '../contract';

/**
 * What both engines' webhook outboxes read the same way. The SQLite writer
 * thread imports this file too.
 */

/** Webhook batches formed in one outbox claim at most: the rest wait for the next claim. */
export const MAX_BATCHES_PER_CLAIM = 20;

/** An escalation that is due, with the recipient's receipts so far, as both engines select it. */
export interface DueEscalationRow {
  seq: number;
  user_id: string;
  unless: ReceiptState;
  id: string | null;
  delivered_at: number | null;
  seen_at: number | null;
  read_at: number | null;
}

/** A stored time (ms since the epoch; PostgreSQL's BIGINT may come back as a string) as ISO 8601, or null. */
export const isoOrNull = (ms: number | string | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());
