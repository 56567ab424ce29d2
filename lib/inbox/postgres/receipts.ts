import 'server-only';
import type pg from 'pg';
import { RECEIPT_EVENT, type ReceiptState, type WebhookEvent, type WebhookEventType } from '../../contract';
import type { ReceiptChange } from '../types';
import type { PgDatabase } from './pool';

interface ReceiptRow {
  seq: number;
  delivered_at: number | null;
  seen_at: number | null;
  read_at: number | null;
}

const COLUMN = { delivered: 'delivered_at', seen: 'seen_at', read: 'read_at' } as const satisfies Record<ReceiptState, keyof ReceiptRow>;

/**
 * The PostgreSQL inbox's receipts: per (notification, recipient), the first time
 * it was delivered, seen and read, each written with its webhook event (when
 * that type is enabled) in the transaction that sets it. A repeat changes
 * nothing and emits nothing. Rows are locked in seq order, as read marks do.
 */
export class PostgresReceipts {
  private readonly enabled: ReadonlySet<WebhookEventType>;

  constructor(
    private readonly db: PgDatabase,
    events: readonly WebhookEventType[],
  ) {
    this.enabled = new Set(events);
  }

  /** Whether escalations are recorded at all. */
  get escalating(): boolean {
    return this.enabled.has('notification.escalated');
  }

  /** A cumulative acknowledgement: the user's notifications up to `upTo`, above the last one's reach. */
  received(userId: string, upTo: number, now: number): Promise<ReceiptChange> {
    return this.db.transaction('received', async (client) => {
      const { rows: head } = await client.query<{ head: number }>('SELECT COALESCE(MAX(seq), 0) AS head FROM deliveries WHERE user_id = $1', [userId]);
      if (upTo > (head[0]?.head ?? 0)) return { changed: [], beyondHead: true };
      // The user's state row serializes this user's acks on every node.
      await client.query('INSERT INTO user_state (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING', [userId]);
      const { rows: state } = await client.query<{ t: number }>('SELECT delivered_through AS t FROM user_state WHERE user_id = $1 FOR UPDATE', [
        userId,
      ]);
      const from = state[0]?.t ?? 0;
      if (upTo <= from) return { changed: [] };
      const { rows } = await client.query<{ seq: number; id: string }>(
        `SELECT d.seq, n.id FROM deliveries d JOIN notifications n ON n.seq = d.seq
          WHERE d.user_id = $1 AND d.seq > $2::bigint AND d.seq <= $3::bigint ORDER BY d.seq`,
        [userId, from, upTo],
      );
      const changed = await this.reach(client, userId, rows, ['delivered'], now);
      await client.query('UPDATE user_state SET delivered_through = GREATEST(delivered_through, $2::bigint) WHERE user_id = $1', [userId, upTo]);
      return { changed: changed.delivered };
    });
  }

  /** Shown on screen: seen, and delivered too if no acknowledgement said so yet. Others' ids match nothing. */
  seen(userId: string, ids: string[], now: number): Promise<ReceiptChange> {
    return this.db.transaction('seen', async (client) => {
      const { rows } = await client.query<{ seq: number; id: string }>(
        `SELECT d.seq, n.id FROM notifications n JOIN deliveries d ON d.seq = n.seq AND d.user_id = $1
          WHERE n.id = ANY($2::text[]) ORDER BY d.seq`,
        [userId, ids],
      );
      return { changed: (await this.reach(client, userId, rows, ['delivered', 'seen'], now)).seen };
    });
  }

  /**
   * Inside the caller's transaction: sets each state's time on these rows where
   * it is unset, writes an event for each one set, and returns the ids that
   * changed, per state.
   */
  async reach(
    client: pg.PoolClient,
    userId: string,
    rows: ReadonlyArray<{ seq: number; id: string }>,
    states: readonly ReceiptState[],
    now: number,
  ): Promise<Record<ReceiptState, string[]>> {
    const changed: Record<ReceiptState, string[]> = { delivered: [], seen: [], read: [] };
    if (rows.length === 0) return changed;
    const sorted = [...rows].sort((a, b) => a.seq - b.seq);
    const seqs = sorted.map((r) => r.seq);
    await client.query(
      'INSERT INTO receipts (seq, user_id) SELECT s, $2 FROM unnest($1::bigint[]) AS s ORDER BY s ON CONFLICT (seq, user_id) DO NOTHING',
      [seqs, userId],
    );
    const { rows: current } = await client.query<ReceiptRow>(
      'SELECT seq, delivered_at, seen_at, read_at FROM receipts WHERE user_id = $2 AND seq = ANY($1::bigint[]) ORDER BY seq FOR UPDATE',
      [seqs, userId],
    );
    const bySeq = new Map(current.map((r) => [Number(r.seq), r]));
    const events: WebhookEvent[] = [];
    const timestamp = new Date(now).toISOString();
    for (const row of sorted) {
      const receipt = bySeq.get(Number(row.seq));
      for (const state of states) {
        if (!receipt || receipt[COLUMN[state]] !== null) continue;
        changed[state].push(row.id);
        events.push({ type: RECEIPT_EVENT[state], id: row.id, userId, timestamp });
      }
    }
    const sets = states.map((state) => `${COLUMN[state]} = COALESCE(${COLUMN[state]}, $3::bigint)`).join(', ');
    await client.query(`UPDATE receipts SET ${sets} WHERE user_id = $2 AND seq = ANY($1::bigint[])`, [seqs, userId, now]);
    await this.emit(client, events);
    return changed;
  }

  /** Writes the enabled ones of these events to the outbox, inside the caller's transaction. */
  async emit(client: pg.PoolClient, events: readonly WebhookEvent[]): Promise<void> {
    const kept = events.filter((e) => this.enabled.has(e.type)).map((e) => JSON.stringify(e));
    if (kept.length > 0) await client.query('INSERT INTO outbox_events (event) SELECT unnest($1::text[])', [kept]);
  }
}
