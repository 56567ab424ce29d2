import 'server-only';
import type { JsonValue, ListPage, NotificationChange, NotificationStatus, RemoveReason, WireNotification } from '../contract';
import { wireGroup } from './groups';
import { isoOrNull } from './outbox-rows';
import type { AppendInput, UserReceipts } from './types';

/**
 * Stored notifications as clients see them, for both engines: they read the same
 * columns (`ROW_COLUMNS`) and differ only in how `data` and `read` come back
 * (SQLite: JSON text and 0/1; PostgreSQL: parsed JSON and a boolean).
 */

/**
 * What a read of a user's notifications selects, from `notifications n` joined
 * with `deliveries d` and, left-joined, the user's `collapse_groups g` headed by it.
 */
export const ROW_COLUMNS =
  'n.seq, n.id, n.entity_type, n.data, n.created_at, d.read, d.archived, n.collapse_key, n.expires_at, n.priority, g.actors AS g_actors, g.count AS g_count, g.pushes AS g_pushes';

/** The join ROW_COLUMNS needs for `g`, after `deliveries d`. */
export const GROUP_JOIN = 'LEFT JOIN collapse_groups g ON g.user_id = d.user_id AND g.seq = d.seq';

/** A row of ROW_COLUMNS, with `data`, `read`, `archived` and the group's actors as the engine returns them. */
export interface NotificationRow<Data, Read> {
  seq: number;
  id: string;
  entity_type: string;
  data: Data;
  created_at: number;
  read: Read;
  archived?: Read;
  collapse_key?: string | null;
  expires_at?: number | string | null;
  priority?: string | null;
  /** JSON text (SQLite) or parsed (PostgreSQL). */
  g_actors?: unknown;
  g_count?: number | null;
  g_pushes?: number | null;
}

/** A row as the wire shows it, given its decoded data and read flag; optional fields only when set. */
export function toWire(row: NotificationRow<unknown, unknown>, data: JsonValue, read: boolean): WireNotification {
  const n: WireNotification = { id: row.id, seq: Number(row.seq), entityType: row.entity_type, data, createdAt: new Date(Number(row.created_at)).toISOString(), read };
  if (row.collapse_key) n.collapseKey = row.collapse_key;
  if (row.collapse_key && row.g_actors != null) {
    const actors = (typeof row.g_actors === 'string' ? JSON.parse(row.g_actors) : row.g_actors) as JsonValue[];
    n.group = wireGroup({ actors, count: Number(row.g_count), pushes: Number(row.g_pushes) });
  }
  if (row.expires_at != null) n.expiresAt = new Date(Number(row.expires_at)).toISOString();
  if (row.priority === 'high') n.priority = 'high';
  if (row.archived === true || row.archived === 1) n.archived = true;
  return n;
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
    ...(input.collapseKey !== undefined ? { collapseKey: input.collapseKey } : {}),
    ...(input.expiresAt !== undefined ? { expiresAt: new Date(input.expiresAt).toISOString() } : {}),
    ...(input.priority ? { priority: input.priority } : {}),
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

/** One user's receipt rows as `Inbox.receiptsOf` answers them, by seq. */
export function receiptsBySeq(rows: Array<Omit<RecipientRow, 'user_id'> & { seq: number | string }>): Map<number, UserReceipts> {
  return new Map(
    rows.map((r) => [Number(r.seq), { deliveredAt: isoOrNull(r.delivered_at), seenAt: isoOrNull(r.seen_at), readAt: isoOrNull(r.read_at) }]),
  );
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


/** A stored change joined with its notification's content (none when it is gone), `data` as the engine returns it. */
export interface ChangeRow<Data> {
  seq: number;
  kind: 'update' | 'remove';
  target: string;
  reason: RemoveReason | null;
  entity_type: string | null;
  data: Data | null;
}

/** A stored change as catch-up replays it; an update of a notification gone since is left out (its removal follows). */
export function changeOf<Data>(row: ChangeRow<Data>, decode: (data: Data) => JsonValue): NotificationChange | null {
  if (row.kind === 'remove') return { kind: 'remove', seq: Number(row.seq), ids: [row.target], reason: row.reason ?? 'retracted', replay: true };
  if (row.entity_type === null || row.data === null) return null;
  return { kind: 'update', seq: Number(row.seq), id: row.target, entityType: row.entity_type, data: decode(row.data), replay: true };
}
