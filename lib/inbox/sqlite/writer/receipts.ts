import type Database from 'better-sqlite3';
import type { ReceiptState, WebhookEvent, WebhookEventType } from '../../../contract';
import { RECEIPT_EVENT } from '../../../contract';
import type { ReceiptChange } from '../../types';
import type { ReceiptRequest } from '../messages';
import type { Merger } from './merge';

/** The receipt column of each state. */
const COLUMN: Readonly<Record<ReceiptState, string>> = { delivered: 'delivered_at', seen: 'seen_at', read: 'read_at' };

/**
 * The writer's receipts: per (notification, recipient), the first time it was
 * delivered, seen and read, each written with its webhook event (when that type
 * is enabled) in the transaction that sets it. Setting a time that is already set
 * changes nothing and emits nothing, so every receipt is idempotent.
 */
export class Receipts {
  private readonly stmt;
  private readonly set: Record<ReceiptState, Database.Statement>;
  private readonly enabled: ReadonlySet<WebhookEventType>;

  constructor(
    private readonly db: Database.Database,
    private readonly merger: Merger,
    events: readonly WebhookEventType[],
  ) {
    this.enabled = new Set(events);
    this.stmt = {
      headSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS head FROM deliveries WHERE user_id = ?'),
      deliveredThrough: db.prepare('SELECT delivered_through AS t FROM user_state WHERE user_id = ?'),
      setDeliveredThrough: db.prepare(
        `INSERT INTO user_state (user_id, delivered_through) VALUES (?, ?)
         ON CONFLICT (user_id) DO UPDATE SET delivered_through = MAX(delivered_through, excluded.delivered_through)`,
      ),
      undelivered: db.prepare(
        `SELECT d.seq, n.id FROM deliveries d JOIN notifications n ON n.seq = d.seq
          LEFT JOIN receipts r ON r.seq = d.seq AND r.user_id = d.user_id
          WHERE d.user_id = ? AND d.seq > ? AND d.seq <= ? AND r.delivered_at IS NULL`,
      ),
      byIds: db.prepare(
        `SELECT d.seq, n.id FROM notifications n JOIN deliveries d ON d.seq = n.seq AND d.user_id = ?
          WHERE n.id IN (SELECT value FROM json_each(?))`,
      ),
      event: db.prepare('INSERT INTO outbox_events (event) VALUES (?)'),
    };
    // Sets the time unless it is set already; `changes` says whether it was.
    const upsert = (column: string) =>
      db.prepare(
        `INSERT INTO receipts (seq, user_id, ${column}) VALUES (?, ?, ?)
         ON CONFLICT (seq, user_id) DO UPDATE SET ${column} = excluded.${column} WHERE ${column} IS NULL`,
      );
    this.set = { delivered: upsert(COLUMN.delivered), seen: upsert(COLUMN.seen), read: upsert(COLUMN.read) };
  }

  /** A cumulative acknowledgement: the user's notifications up to `upTo`, above the last one's reach. */
  received(userId: string, upTo: number, now: number): ReceiptChange {
    return this.inTransaction([userId], () => this.receivedWithin(userId, upTo, now));
  }

  /** Shown on screen: seen, and delivered too if no acknowledgement said so yet. Others' ids match nothing. */
  seen(userId: string, ids: string[], now: number): ReceiptChange {
    return this.inTransaction([userId], () => this.seenWithin(userId, ids, now));
  }

  /**
   * Receipts that queued together, in one transaction and one commit: with every
   * tab acknowledging what it receives, one commit each would take the writer
   * from the pushes. Each answer is what the receipt alone would have answered.
   */
  batch(items: readonly ReceiptRequest[]): ReceiptChange[] {
    return this.inTransaction(
      items.map((item) => item.userId),
      () => items.map((item) => (item.op === 'received' ? this.receivedWithin(item.userId, item.upTo, item.now) : this.seenWithin(item.userId, item.ids, item.now))),
    );
  }

  private receivedWithin(userId: string, upTo: number, now: number): ReceiptChange {
    const head = (this.stmt.headSeq.get(userId) as { head: number }).head;
    if (upTo > head) return { changed: [], beyondHead: true };
    const from = (this.stmt.deliveredThrough.get(userId) as { t: number } | undefined)?.t ?? 0;
    if (upTo <= from) return { changed: [] };
    const rows = this.stmt.undelivered.all(userId, from, upTo) as Array<{ seq: number; id: string }>;
    const changed = rows.filter((row) => this.reach('delivered', userId, row, now)).map((row) => row.id);
    this.stmt.setDeliveredThrough.run(userId, upTo);
    return { changed };
  }

  private seenWithin(userId: string, ids: string[], now: number): ReceiptChange {
    const rows = this.stmt.byIds.all(userId, JSON.stringify(ids)) as Array<{ seq: number; id: string }>;
    const changed: string[] = [];
    for (const row of rows) {
      this.reach('delivered', userId, row, now);
      if (this.reach('seen', userId, row, now)) changed.push(row.id);
    }
    return { changed };
  }

  /** Inside a read mark's transaction: these rows were just marked read. */
  read(userId: string, rows: ReadonlyArray<{ seq: number; id: string }>, now: number): void {
    for (const row of rows) this.reach('read', userId, row, now);
  }

  /** Writes an event to the outbox when its type is enabled (inside the caller's transaction). */
  emit(event: WebhookEvent): void {
    if (this.enabled.has(event.type)) this.stmt.event.run(JSON.stringify(event));
  }

  /** Whether escalations are recorded at all. */
  get escalating(): boolean {
    return this.enabled.has('notification.escalated');
  }

  /** Sets `state`'s time for one row unless set; emits its event when it was not. */
  private reach(state: ReceiptState, userId: string, row: { seq: number; id: string }, now: number): boolean {
    if (this.set[state].run(row.seq, userId, now).changes === 0) return false;
    this.emit({ type: RECEIPT_EVENT[state], id: row.id, userId, timestamp: new Date(now).toISOString() });
    return true;
  }

  /** The users' pending deliveries merged first (as read marks do), then `change`, in one transaction. */
  private inTransaction<T>(userIds: readonly string[], change: () => T): T {
    let forget = (): void => undefined;
    const result = this.db.transaction(() => {
      forget = this.merger.mergeUsers([...new Set(userIds)]);
      return change();
    })();
    forget();
    return result;
  }
}
