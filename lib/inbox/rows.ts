import 'server-only';
import type { JsonValue, ListPage, NotificationStatus, WireNotification } from '../contract';
import { isoOrNull } from './outbox-rows';
import type { AppendInput } from './types';

/**
 * Stored notifications as clients see them, for both engines: they read the same
 * columns (`ROW_COLUMNS`) and differ only in how `data` and `read` come back
 * (SQLite: JSON text and 0/1; PostgreSQL: parsed JSON and a boolean).
 */

/** What a read of a user's notifications selects, from `notifications n` joined with `deliveries d`. */
export const ROW_COLUMNS = 'n.seq, n.id, n.entity_type, n.data, n.created_at, d.read';

/** A row of ROW_COLUMNS, with `data` and `read` as the engine returns them. */
export interface NotificationRow<Data, Read> {
  seq: number;
  id: string;
  entity_type: string;
  data: Data;
  created_at: number;
  read: Read;
}

/** A row as the wire shows it, given its decoded data and read flag. */
export function toWire(row: NotificationRow<unknown, unknown>, data: JsonValue, read: boolean): WireNotification {
  return { id: row.id, seq: row.seq, entityType: row.entity_type, data, createdAt: new Date(row.created_at).toISOString(), read };
}

/** What an append stored, built from its own input: the commit adds only the seq, and it is unread. */
export function storedNotification(input: AppendInput, seq: number): WireNotification {
  return {
    id: input.id,
    seq,
    entityType: input.entityType,
    data: input.data,
    createdAt: new Date(input.createdAt).toISOString(),
    read: false,
  };
}

/** A page of history from up to `limit + 1` rows, newest first: a row past `limit` means there is more. */
export function pageOf<Row>(rows: Row[], limit: number, wire: (row: Row) => WireNotification): ListPage {
  const items = rows.slice(0, limit).map(wire);
  return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.seq ?? null) : null };
}

/** A recipient's receipts as both engines select them: times in ms since the epoch, or null. */
export interface RecipientRow {
  user_id: string;
  delivered_at: number | null;
  seen_at: number | null;
  read_at: number | null;
}

/** A notification's status from its row and up to `limit + 1` recipient rows by user id: a row past `limit` means there is more. */
export function statusOf(row: Omit<NotificationRow<unknown, unknown>, 'read'>, data: JsonValue, recipients: RecipientRow[], limit: number): NotificationStatus {
  const page = recipients.slice(0, limit);
  return {
    notification: { id: row.id, seq: Number(row.seq), entityType: row.entity_type, data, createdAt: new Date(Number(row.created_at)).toISOString() },
    recipients: page.map((r) => ({
      userId: r.user_id,
      deliveredAt: isoOrNull(r.delivered_at),
      seenAt: isoOrNull(r.seen_at),
      readAt: isoOrNull(r.read_at),
    })),
    nextCursor: recipients.length > limit ? (page[page.length - 1]?.user_id ?? null) : null,
  };
}

