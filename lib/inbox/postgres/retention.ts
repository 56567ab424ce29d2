import 'server-only';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { InboxUnavailableError } from '../../errors';
import { IDEMPOTENCY_WINDOW_MS } from '../idempotency';
import type { InboxOptions, SweepResult } from '../types';
import type { PgDatabase } from './pool';

/** Rows deleted per retention step before yielding to the event loop. */
const SWEEP_CHUNK = 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The PostgreSQL inbox's retention (`sweep`), in small steps: every statement
 * touches at most SWEEP_CHUNK rows (or users), each step is its own short
 * transaction, and the loop yields between steps, so neither delivery nor the
 * statement timeout is ever hit by a large table. Several nodes may sweep at once:
 * deletions skip rows another transaction holds (SKIP LOCKED), so sweepers never
 * wait on each other or on a read-state change, and watermarks only ever rise
 * (GREATEST). Calls on one instance run one after another.
 */
export class PostgresRetention {
  /** Users who received something on this node since its last sweep: only they can be over the cap. */
  private touched = new Set<string>();
  private firstSweep = true;
  /** The sweep in progress on this instance, if any: the next one waits for it. */
  private sweeping: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: PgDatabase,
    private readonly opts: InboxOptions,
  ) {}

  /** These users received something: the next sweep checks them against the cap. */
  touch(userIds: readonly string[]): void {
    for (const u of userIds) this.touched.add(u);
  }

  sweep(now: number): Promise<SweepResult> {
    if (this.db.closed) return Promise.reject(new InboxUnavailableError('inbox is closed'));
    const run = this.sweeping.catch(() => undefined).then(() => this.sweepOnce(now));
    this.sweeping = run;
    return run;
  }

  private async sweepOnce(now: number): Promise<SweepResult> {
    this.db.guard();
    const result: SweepResult = { deliveriesDeleted: 0, notificationsDeleted: 0, idempotencyDeleted: 0 };

    // 1. Per-user cap: only users who received something can have grown past it
    //    (after a restart, any user can: the first sweep looks at all of them).
    const touched = this.touched;
    this.touched = new Set();
    let users: string[];
    try {
      users = this.firstSweep ? [...new Set([...(await this.usersOverCap()), ...touched])] : [...touched];
    } catch (err) {
      for (const u of touched) this.touched.add(u);
      throw err;
    }
    this.firstSweep = false;
    for (const [i, userId] of users.entries()) {
      try {
        await this.capUser(userId, result);
      } catch (err) {
        // Not lost: the users not yet done are looked at again next time.
        for (const u of users.slice(i)) this.touched.add(u);
        throw err;
      }
      await yieldToLoop();
    }

    // 2. Age: everything up to the newest seq created before the cutoff goes, for every user.
    const ttlCutoff = now - this.opts.ttlDays * DAY_MS;
    const { rows: ttlRows } = await this.db.query<{ s: number | null }>(
      'sweep',
      'SELECT MAX(seq) AS s FROM notifications WHERE created_at < $1',
      [ttlCutoff],
    );
    const ttlSeq = ttlRows[0]?.s ?? null;
    if (ttlSeq !== null) {
      // Watermark first: while the chunks below are deleted, a client behind it is told to reset, never shown a gap.
      await this.db.query(
        'sweep',
        `INSERT INTO meta (key, value) VALUES ('ttl_pruned_through', $1)
         ON CONFLICT (key) DO UPDATE SET value = GREATEST(meta.value, EXCLUDED.value)`,
        [ttlSeq],
      );
      result.deliveriesDeleted += await this.deleteInChunks(
        `DELETE FROM deliveries WHERE (user_id, seq) IN (
           SELECT user_id, seq FROM deliveries WHERE seq <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [ttlSeq],
      );
      // Every notification up to the watermark has lost its deliveries now, save rows
      // skipped above (they go next time); this also catches any the cap step left behind.
      result.notificationsDeleted += await this.deleteInChunks(
        `DELETE FROM notifications WHERE seq IN (
           SELECT n.seq FROM notifications n
            WHERE n.seq <= $1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = n.seq)
            LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [ttlSeq],
      );
    }

    // 3. Idempotency keys past their window.
    result.idempotencyDeleted = await this.deleteInChunks(
      `DELETE FROM idempotency WHERE key IN (
         SELECT key FROM idempotency WHERE created_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [now - IDEMPOTENCY_WINDOW_MS],
    );
    // 4. Changes age like notifications (a client behind the age limit gets a reset anyway);
    //    groups whose head is gone start afresh.
    await this.deleteInChunks(
      `DELETE FROM changes WHERE (user_id, seq) IN (
         SELECT user_id, seq FROM changes WHERE created_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [ttlCutoff],
    );
    await this.db.query(
      'sweep',
      'DELETE FROM collapse_groups g WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.seq = g.seq)',
    );
    return result;
  }

  /** Every user holding more than the cap, found a page of users at a time along the primary key. */
  private async usersOverCap(): Promise<string[]> {
    const over: string[] = [];
    let after: string | undefined;
    for (;;) {
      const { rows } = await this.db.query<{ user_id: string; n: number }>(
        'sweep',
        `SELECT user_id, COUNT(*) AS n FROM deliveries ${after === undefined ? 'WHERE $1::text IS NULL' : 'WHERE user_id > $1'}
          GROUP BY user_id ORDER BY user_id LIMIT $2`,
        [after ?? null, SWEEP_CHUNK],
      );
      for (const r of rows) if (r.n > this.opts.maxPerUser) over.push(r.user_id);
      if (rows.length < SWEEP_CHUNK) return over;
      after = rows[rows.length - 1]?.user_id;
      await yieldToLoop();
    }
  }

  /** Deletes all but the newest `maxPerUser` of one user's deliveries, and the notifications nobody holds any more. */
  private async capUser(userId: string, result: SweepResult): Promise<void> {
    // `cutoff` is the newest one that goes.
    const { rows } = await this.db.query<{ seq: number }>(
      'sweep',
      'SELECT seq FROM deliveries WHERE user_id = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2',
      [userId, this.opts.maxPerUser],
    );
    const cutoff = rows[0]?.seq;
    if (cutoff === undefined) return;
    for (;;) {
      const { deliveries, notifications } = await this.db.transaction('sweep', async (client) => {
        const del = await client.query<{ seq: number }>(
          `DELETE FROM deliveries WHERE user_id = $1 AND seq IN (
             SELECT seq FROM deliveries WHERE user_id = $1 AND seq <= $2 LIMIT $3 FOR UPDATE SKIP LOCKED)
           RETURNING seq`,
          [userId, cutoff, SWEEP_CHUNK],
        );
        // The watermark commits with the deletion, so `since` never sees one without the other.
        await client.query(
          `INSERT INTO user_state (user_id, pruned_through) VALUES ($1, $2)
           ON CONFLICT (user_id) DO UPDATE SET pruned_through = GREATEST(user_state.pruned_through, EXCLUDED.pruned_through)`,
          [userId, cutoff],
        );
        // Only the notifications this step touched can have become orphans: no table scan.
        // (One that another sweeper is releasing at the same moment may survive; the age step takes it.)
        const orphans = await client.query(
          `DELETE FROM notifications n WHERE n.seq = ANY($1::bigint[])
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = n.seq)`,
          [del.rows.map((r) => r.seq)],
        );
        return { deliveries: del.rowCount ?? 0, notifications: orphans.rowCount ?? 0 };
      });
      result.deliveriesDeleted += deliveries;
      result.notificationsDeleted += notifications;
      if (deliveries < SWEEP_CHUNK) return;
      await yieldToLoop();
    }
  }

  /** Runs a chunked DELETE (its last parameter is the chunk size) until a chunk comes back short. */
  private async deleteInChunks(sql: string, params: unknown[]): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.db.query('sweep', sql, [...params, SWEEP_CHUNK]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < SWEEP_CHUNK) return total;
      await yieldToLoop();
    }
  }
}
