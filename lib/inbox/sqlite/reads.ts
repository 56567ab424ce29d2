import 'server-only';
import type Database from 'better-sqlite3';
import type { InboxView, JsonValue, ListPage, NotificationStatus, WireNotification } from '../../contract';
import type { PendingDeliveries } from '../pending';
import { changeOf, GROUP_JOIN, pageOf, receiptsBySeq, ROW_COLUMNS, statusOf, toWire, type ChangeRow, type NotificationRow, type RecipientRow } from '../rows';
import { UnreadCounter } from './unread';
import type { OutboxStats, SinceResult, UserReceipts } from '../types';

type Row = NotificationRow<string, number>;

const wire = (row: Row): WireNotification => toWire(row, JSON.parse(row.data) as JsonValue, row.read === 1);

/** Each view's condition on `deliveries d`. */
const VIEW_FILTER: Record<InboxView, string> = {
  all: 'AND d.archived = 0',
  unread: 'AND d.archived = 0 AND d.read = 0',
  archived: 'AND d.archived = 1',
};

/**
 * The SQLite inbox's reads, on the main thread's own connection. In WAL mode a
 * read sees every commit the writer has finished, and a write's promise settles
 * only after its commit, so a read made after `await append()` sees it.
 *
 * Every read adds the user's pending deliveries (stored in the fan-out log, not
 * yet merged into `deliveries`) to what the database holds. For each user the
 * merged rows are a prefix of the user's seqs, so what is pending above the
 * user's highest merged seq is exactly what the database lacks.
 */
export class SqliteReads {
  private readonly stmt;
  private readonly unread: UnreadCounter;
  /** A page query per view. */
  private readonly pages: Record<InboxView, Database.Statement>;

  constructor(
    private readonly db: Database.Database,
    private readonly pending: PendingDeliveries,
  ) {
    this.unread = new UnreadCounter(db);
    const page = (view: InboxView) =>
      db.prepare(
        `SELECT ${ROW_COLUMNS} FROM deliveries d JOIN notifications n ON n.seq = d.seq ${GROUP_JOIN}
          WHERE d.user_id = ? AND d.seq < ? ${VIEW_FILTER[view]} ORDER BY d.seq DESC LIMIT ?`,
      );
    this.pages = { all: page('all'), unread: page('unread'), archived: page('archived') };
    this.stmt = {
      since: db.prepare(
        `SELECT ${ROW_COLUMNS} FROM deliveries d JOIN notifications n ON n.seq = d.seq ${GROUP_JOIN}
          WHERE d.user_id = ? AND d.seq > ? ORDER BY d.seq ASC LIMIT ?`,
      ),
      changes: db.prepare(
        `SELECT c.seq, c.kind, c.target, c.reason, n.entity_type, n.data FROM changes c LEFT JOIN notifications n ON n.id = c.target
          WHERE c.user_id = ? AND c.seq > ? ORDER BY c.seq ASC LIMIT ?`,
      ),
      headSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS head FROM deliveries WHERE user_id = ?'),
      prunedThrough: db.prepare('SELECT pruned_through FROM user_state WHERE user_id = ?'),
      metaGet: db.prepare('SELECT value FROM meta WHERE key = ?'),
      notification: db.prepare('SELECT seq, id, entity_type, data, created_at FROM notifications WHERE id = ?'),
      // Schema 4 keeps each push's recipients; an older row lists only those with a receipt.
      recipients: db.prepare(
        `SELECT j.value AS user_id, r.delivered_at, r.seen_at, r.read_at
           FROM notifications n, json_each(COALESCE(n.recipients, (SELECT json_group_array(user_id) FROM receipts WHERE seq = n.seq))) j
           LEFT JOIN receipts r ON r.seq = n.seq AND r.user_id = j.value
          WHERE n.seq = ? AND j.value > ? ORDER BY j.value LIMIT ?`,
      ),
      userReceipts: db.prepare(
        'SELECT seq, delivered_at, seen_at, read_at FROM receipts WHERE user_id = ? AND seq IN (SELECT value FROM json_each(?))',
      ),
      outboxStats: db.prepare(
        `SELECT (SELECT COUNT(*) FROM outbox_events) AS events,
                (SELECT COUNT(*) FROM outbox_batches WHERE state = 'pending') AS pending,
                (SELECT COUNT(*) FROM outbox_batches WHERE state = 'failed') AS failed`,
      ),
      pendingRows: db.prepare(
        `SELECT n.seq, n.id, n.entity_type, n.data, n.created_at, 0 AS read, 0 AS archived, n.collapse_key, n.expires_at, n.priority,
                g.actors AS g_actors, g.count AS g_count, g.pushes AS g_pushes
           FROM notifications n LEFT JOIN collapse_groups g ON g.user_id = ? AND g.seq = n.seq
          WHERE n.seq IN (SELECT value FROM json_each(?)) ORDER BY n.seq`,
      ),
    };
  }

  since(userId: string, afterSeq: number, limit: number): SinceResult {
    // One read transaction: the head, the watermarks and the rows come from one commit
    // of the writer, not from either side of one.
    return this.db.transaction((): SinceResult => {
      const merged = this.mergedHead(userId);
      // Everything pending above the merged head comes after every merged row.
      const extra = this.pending.above(userId, Math.max(afterSeq, merged));
      const headSeq = Math.max(merged, this.pending.headOf(userId));
      if (afterSeq < this.prunedThrough(userId)) return { items: [], changes: [], reset: true, headSeq };
      const rows = this.stmt.since.all(userId, afterSeq, limit + 1) as Row[];
      const changeRows = this.stmt.changes.all(userId, afterSeq, limit + 1) as Array<ChangeRow<string>>;
      if (rows.length + extra.length > limit || changeRows.length > limit) return { items: [], changes: [], reset: true, headSeq };
      const changes = changeRows.flatMap((row) => changeOf(row, (raw) => JSON.parse(raw) as JsonValue) ?? []);
      return { items: [...rows, ...this.pendingRowsOf(userId, extra)].map(wire), changes, reset: false, headSeq };
    })();
  }

  list(userId: string, opts: { before?: number; limit: number; view?: InboxView }): ListPage {
    const before = opts.before ?? Number.MAX_SAFE_INTEGER;
    const view = opts.view ?? 'all';
    const rows = this.db.transaction((): Row[] => {
      // Pending entries are the newest (unread, never archived): they come first, then merged rows.
      const newest =
        view === 'archived'
          ? []
          : this.pending
              .above(userId, this.mergedHead(userId))
              .filter((seq) => seq < before)
              .slice(-(opts.limit + 1));
      const fresh = this.pendingRowsOf(userId, newest).reverse();
      if (fresh.length > opts.limit) return fresh;
      return [...fresh, ...(this.pages[view].all(userId, before, opts.limit + 1 - fresh.length) as Row[])];
    })();
    return pageOf(rows, opts.limit, wire);
  }

  summary(userId: string): { unread: number; headSeq: number } {
    // One read transaction, so both numbers come from the same commit.
    return this.db.transaction(() => {
      const merged = this.mergedHead(userId);
      const fresh = this.pending.above(userId, merged);
      const muted = this.unread.muted(userId);
      // Pending rows are unread and never archived; only a muted type leaves one uncounted.
      const freshUnread = muted.length === 0 ? fresh.length : this.pendingRowsOf(userId, fresh).filter((r) => !muted.includes(r.entity_type)).length;
      return {
        unread: this.unread.count(userId, muted) + freshUnread,
        headSeq: Math.max(merged, this.pending.headOf(userId)),
      };
    })();
  }

  status(id: string, opts: { after?: string; limit: number }): NotificationStatus | null {
    return this.db.transaction((): NotificationStatus | null => {
      const row = this.stmt.notification.get(id) as Omit<Row, 'read'> | undefined;
      if (!row) return null;
      const recipients = this.stmt.recipients.all(row.seq, opts.after ?? '', opts.limit + 1) as RecipientRow[];
      return statusOf(row, JSON.parse(row.data) as JsonValue, recipients, opts.limit);
    })();
  }

  receiptsOf(userId: string, seqs: number[]): Map<number, UserReceipts> {
    if (seqs.length === 0) return new Map();
    return receiptsBySeq(this.stmt.userReceipts.all(userId, JSON.stringify(seqs)) as Array<Omit<RecipientRow, 'user_id'> & { seq: number }>);
  }

  outboxStats(): OutboxStats {
    return this.stmt.outboxStats.get() as OutboxStats;
  }

  /** The user's highest seq in `deliveries`: every pending entry at or below it is merged already. */
  private mergedHead(userId: string): number {
    return (this.stmt.headSeq.get(userId) as { head: number }).head;
  }

  /** The user's muted entity types. */
  muted(userId: string): string[] {
    return this.unread.muted(userId);
  }

  /** The user's notifications of pending seqs, ascending, unread (a read mark merges them first). */
  private pendingRowsOf(userId: string, seqs: number[]): Row[] {
    return seqs.length === 0 ? [] : (this.stmt.pendingRows.all(userId, JSON.stringify(seqs)) as Row[]);
  }

  /** How far retention deleted for this user: a client behind it gets a reset. */
  private prunedThrough(userId: string): number {
    const user = (this.stmt.prunedThrough.get(userId) as { pruned_through: number } | undefined)?.pruned_through ?? 0;
    const ttl = (this.stmt.metaGet.get('ttl_pruned_through') as { value: number } | undefined)?.value ?? 0;
    return Math.max(user, ttl);
  }
}
