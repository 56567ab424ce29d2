import 'server-only';
import type pg from 'pg';
import type { InboxView, JsonValue, ListPage, NotificationStatus, ReadState, WireNotification } from '../../contract';
import { changeOf, GROUP_JOIN, pageOf, receiptsBySeq, ROW_COLUMNS, type ChangeRow, statusOf, toWire, type NotificationRow, type RecipientRow } from '../rows';
import type { SinceResult, UserReceipts } from '../types';
import type { PgDatabase } from './pool';
import type { PostgresReceipts } from './receipts';

type Row = NotificationRow<JsonValue, boolean>;

const wire = (row: Row): WireNotification => toWire(row, row.data, row.read);

/**
 * Both numbers in one statement, so from one snapshot. Unread as the badge
 * shows it: not read, not archived, not of a type the user muted.
 */
const SUMMARY_SQL = `SELECT (SELECT COUNT(*) FROM deliveries d JOIN notifications n ON n.seq = d.seq
                              WHERE d.user_id = $1 AND NOT d.read AND NOT d.archived
                                AND NOT EXISTS (SELECT 1 FROM preferences p, json_array_elements_text(p.muted) m
                                                 WHERE p.user_id = $1 AND m = n.entity_type)) AS unread,
                            (SELECT COALESCE(MAX(seq), 0) FROM deliveries WHERE user_id = $1) AS head`;

/** Each view's condition on `deliveries d`. */
const VIEW_FILTER: Record<InboxView, string> = {
  all: 'AND NOT d.archived',
  unread: 'AND NOT d.archived AND NOT d.read',
  archived: 'AND d.archived',
};

export async function summaryOf(client: pg.PoolClient, userId: string): Promise<{ unread: number; headSeq: number }> {
  const { rows } = await client.query<{ unread: number; head: number }>(SUMMARY_SQL, [userId]);
  return { unread: rows[0]?.unread ?? 0, headSeq: rows[0]?.head ?? 0 };
}

/**
 * The PostgreSQL inbox's reads and read marks: every read is one statement, so it
 * sees one snapshot. Marking read records the first `readAt` of each row it
 * changed (receipts.ts), with its event, in the same transaction.
 */
export class PostgresReads {
  constructor(
    private readonly db: PgDatabase,
    private readonly receipts: PostgresReceipts,
  ) {}

  async since(userId: string, afterSeq: number, limit: number): Promise<SinceResult> {
    // One statement, so the head, the watermarks and the rows come from one snapshot:
    // a sweep between them cannot turn a reset into a silent gap. The rows are not
    // even read when the client's position is below what retention removed.
    const { rows } = await this.db.query<Partial<Row> & { head: number; pruned: number }>(
      'since',
      `WITH w AS (
         SELECT (SELECT COALESCE(MAX(seq), 0) FROM deliveries WHERE user_id = $1) AS head,
                GREATEST(COALESCE((SELECT pruned_through FROM user_state WHERE user_id = $1), 0),
                         COALESCE((SELECT value FROM meta WHERE key = 'ttl_pruned_through'), 0)) AS pruned
       )
       SELECT w.head, w.pruned, r.* FROM w LEFT JOIN LATERAL (
         SELECT ${ROW_COLUMNS} FROM deliveries d JOIN notifications n ON n.seq = d.seq ${GROUP_JOIN}
          WHERE d.user_id = $1 AND d.seq > $2::bigint AND $2::bigint >= w.pruned
          ORDER BY d.seq ASC LIMIT $3::int
       ) r ON true
       ORDER BY r.seq ASC`,
      [userId, afterSeq, limit + 1],
    );
    const first = rows[0];
    const headSeq = first?.head ?? 0;
    if (!first || afterSeq < first.pruned) return { items: [], changes: [], reset: true, headSeq };
    const items = rows.filter((r) => r.seq !== null && r.seq !== undefined) as Row[];
    if (items.length > limit) return { items: [], changes: [], reset: true, headSeq };
    // Read after the items: a change committed in between is replayed too, which is harmless (changes are idempotent).
    const { rows: changeRows } = await this.db.query<ChangeRow<JsonValue>>(
      'since',
      `SELECT c.seq, c.kind, c.target, c.reason, n.entity_type, n.data FROM changes c LEFT JOIN notifications n ON n.id = c.target
        WHERE c.user_id = $1 AND c.seq > $2::bigint ORDER BY c.seq ASC LIMIT $3::int`,
      [userId, afterSeq, limit + 1],
    );
    if (changeRows.length > limit) return { items: [], changes: [], reset: true, headSeq };
    const changes = changeRows.flatMap((row) => changeOf(row, (data) => data) ?? []);
    return { items: items.map(wire), changes, reset: false, headSeq };
  }

  async list(userId: string, opts: { before?: number; limit: number; view?: InboxView }): Promise<ListPage> {
    const before = opts.before ?? Number.MAX_SAFE_INTEGER;
    const { rows } = await this.db.query<Row>(
      'list',
      `SELECT ${ROW_COLUMNS} FROM deliveries d JOIN notifications n ON n.seq = d.seq ${GROUP_JOIN}
        WHERE d.user_id = $1 AND d.seq < $2::bigint ${VIEW_FILTER[opts.view ?? 'all']} ORDER BY d.seq DESC LIMIT $3::int`,
      [userId, before, opts.limit + 1],
    );
    return pageOf(rows, opts.limit, wire);
  }

  async summary(userId: string): Promise<{ unread: number; headSeq: number }> {
    const { rows } = await this.db.query<{ unread: number; head: number }>('summary', SUMMARY_SQL, [userId]);
    return { unread: rows[0]?.unread ?? 0, headSeq: rows[0]?.head ?? 0 };
  }

  /** Marks and counts in one transaction, so the answer matches the change. */
  async markRead(userId: string, ids: string[]): Promise<ReadState> {
    return this.db.transaction('markRead', async (client) => {
      // Rows are locked in seq order, as markAllRead does, so two tabs marking at once cannot deadlock.
      const { rows } = await client.query<{ seq: number; id: string }>(
        `WITH target AS (
           SELECT d.seq, n.id FROM deliveries d JOIN notifications n ON n.seq = d.seq
            WHERE d.user_id = $1 AND NOT d.read AND n.id = ANY($2::text[])
            ORDER BY d.seq FOR UPDATE OF d
         )
         UPDATE deliveries d SET read = true FROM target t
          WHERE d.user_id = $1 AND d.seq = t.seq RETURNING t.seq, t.id`,
        [userId, ids],
      );
      await this.receipts.reach(client, userId, rows, ['read'], Date.now());
      const summary = await summaryOf(client, userId);
      return { ...summary, readIds: rows.map((r) => r.id) };
    });
  }

  async markUnread(userId: string, ids: string[]): Promise<ReadState> {
    return this.db.transaction('markUnread', async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `WITH target AS (
           SELECT d.seq, n.id FROM deliveries d JOIN notifications n ON n.seq = d.seq
            WHERE d.user_id = $1 AND d.read AND n.id = ANY($2::text[])
            ORDER BY d.seq FOR UPDATE OF d
         )
         UPDATE deliveries d SET read = false FROM target t
          WHERE d.user_id = $1 AND d.seq = t.seq RETURNING t.id`,
        [userId, ids],
      );
      const summary = await summaryOf(client, userId);
      return { ...summary, readIds: [], unreadIds: rows.map((r) => r.id) };
    });
  }

  /** The notification and a page of its recipients (its delivery rows) with their receipts; byte order of user ids, as SQLite's. */
  async status(id: string, opts: { after?: string; limit: number }): Promise<NotificationStatus | null> {
    const { rows } = await this.db.query<Omit<Row, 'read'>>('status', 'SELECT seq, id, entity_type, data, created_at FROM notifications WHERE id = $1', [id]);
    const row = rows[0];
    if (!row) return null;
    const { rows: recipients } = await this.db.query<RecipientRow>(
      'status',
      `SELECT d.user_id, r.delivered_at, r.seen_at, r.read_at FROM deliveries d
         LEFT JOIN receipts r ON r.seq = d.seq AND r.user_id = d.user_id
        WHERE d.seq = $1 AND d.user_id COLLATE "C" > $2 ORDER BY d.user_id COLLATE "C" LIMIT $3::int`,
      [row.seq, opts.after ?? '', opts.limit + 1],
    );
    return statusOf(row, row.data, recipients, opts.limit);
  }

  async receiptsOf(userId: string, seqs: number[]): Promise<Map<number, UserReceipts>> {
    if (seqs.length === 0) return new Map();
    const { rows } = await this.db.query<Omit<RecipientRow, 'user_id'> & { seq: string }>(
      'receiptsOf',
      'SELECT seq, delivered_at, seen_at, read_at FROM receipts WHERE user_id = $1 AND seq = ANY($2::bigint[])',
      [userId, seqs],
    );
    return receiptsBySeq(rows);
  }

  /** A committed one-row write, for readiness. */
  async probeWrite(): Promise<void> {
    await this.db.query(
      'probeWrite',
      `INSERT INTO meta (key, value) VALUES ('write_probe', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [Date.now()],
    );
  }

  async markAllRead(userId: string): Promise<ReadState> {
    return this.db.transaction('markAllRead', async (client) => {
      const { rows } = await client.query<{ seq: number; id: string }>(
        `WITH target AS (SELECT seq FROM deliveries WHERE user_id = $1 AND NOT read ORDER BY seq FOR UPDATE),
              marked AS (UPDATE deliveries d SET read = true FROM target t WHERE d.user_id = $1 AND d.seq = t.seq RETURNING d.seq)
         SELECT m.seq, n.id FROM marked m JOIN notifications n ON n.seq = m.seq`,
        [userId],
      );
      await this.receipts.reach(client, userId, rows, ['read'], Date.now());
      return { ...(await summaryOf(client, userId)), readIds: [], all: true };
    });
  }
}
