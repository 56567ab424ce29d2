import type Database from 'better-sqlite3';
import type { MergeReport } from '../messages';

/** Rows one multi-row merge statement inserts at most. */
const MERGE_CHUNK = 32;

/**
 * The writer's pending deliveries and their merge into `deliveries`.
 *
 * An append stores one `fanout` row naming its recipients, not a `deliveries` row
 * per recipient: those would dirty an index page per recipient in the push's own
 * commit, and every commit would write the pages to the WAL again. The per-user
 * rows come later, in bulk (`step`): all pending deliveries sorted by user, so
 * each user's page is written once for many pushes. Until then this class holds
 * them (and the main thread the same, in lib/inbox/pending.ts, so that reads
 * include them).
 *
 * Invariants the reads and retention rely on:
 * - for each user, the merged deliveries are a prefix of the user's seqs: a merge
 *   takes all of a user's pending seqs up to its bound at once, so everything
 *   pending above the user's highest merged seq is not merged yet;
 * - a `fanout` row is deleted only once all its recipients are merged, and on
 *   restart every surviving row is merged again with INSERT OR IGNORE.
 */
export class Merger {
  /** Stored in `fanout`, not yet in `deliveries`: user -> seqs, ascending. */
  private readonly pending = new Map<string, number[]>();
  /** The highest seq ever added to `pending`. */
  private pendingHead = 0;
  /** The merge under way: every user with deliveries up to `through`, sorted, and how far it got. */
  private snapshot: { through: number; users: string[]; pos: number } | null = null;
  /** What the current request merged, for its answer (see `takeReport`). */
  private report: MergeReport | null = null;
  /** What the current request dropped from pending without merging it, for its answer. */
  private dropped: Array<[string, number]> = [];
  /** Users who got delivery rows since retention last asked: only they can be over the cap. */
  private touched = new Set<string>();
  /** Multi-row merge statements by row count, prepared on first use. */
  private readonly mergeRows = new Map<number, Database.Statement>();
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      mergeDelivery: db.prepare('INSERT OR IGNORE INTO deliveries (user_id, seq, read) VALUES (?, ?, 0)'),
      deleteFanout: db.prepare('DELETE FROM fanout WHERE seq <= ?'),
      minFanout: db.prepare('SELECT MIN(seq) AS s FROM fanout'),
    };
    // After a restart, everything still in the log is pending again; what was merged
    // before the restart is merged again, and INSERT OR IGNORE keeps the rows as they are.
    const log = db.prepare('SELECT seq, recipients FROM fanout ORDER BY seq').iterate() as Iterable<{ seq: number; recipients: string }>;
    for (const row of log) this.add(row.seq, JSON.parse(row.recipients) as string[]);
  }

  /** A committed append's recipients (distinct), now pending. */
  add(seq: number, userIds: readonly string[]): void {
    for (const userId of userIds) {
      const seqs = this.pending.get(userId);
      if (seqs) seqs.push(seq);
      else this.pending.set(userId, [seq]);
      if (seq > this.pendingHead) this.pendingHead = seq;
    }
  }

  /** The highest seq ever pending (for some user). */
  get head(): number {
    return this.pendingHead;
  }

  /** A merge is part way through its users. */
  get active(): boolean {
    return this.snapshot !== null;
  }

  /** The lowest seq still in the fan-out log, or null when it is empty. */
  oldestLogged(): number | null {
    return (this.stmt.minFanout.get() as { s: number | null }).s;
  }

  /** What merged since the last call: each request's answer reports it, and the next starts afresh. */
  takeReport(): MergeReport | null {
    const report = this.report;
    const dropped = this.dropped;
    this.report = null;
    this.dropped = [];
    if (dropped.length === 0) return report;
    return { ...(report ?? { users: [], through: 0 }), dropped };
  }

  /** Users who got delivery rows since the last call. */
  takeTouched(): Set<string> {
    const touched = this.touched;
    this.touched = new Set();
    return touched;
  }

  /**
   * Merges the next users of the merge under way (starting one over everything
   * pending when none is), about `maxRows` rows, whole users only, in one
   * transaction, and stops early (after at least one user) once it has taken
   * `maxMs`: appends queued meanwhile wait for the step, so its length, not its
   * row count, is what they feel. Rows are inserted sorted by user, so each
   * user's page is written once. Not fsynced (synchronous=NORMAL): the log row it
   * comes from already is, and the next FULL commit syncs the WAL up to here.
   */
  step(maxRows: number, maxMs: number): void {
    if (!this.snapshot) {
      if (this.pending.size === 0) {
        // Read marks merged every user of what is left in the log: its rows can go.
        if (this.oldestLogged() !== null) this.stmt.deleteFanout.run(this.pendingHead);
        return;
      }
      this.snapshot = { through: this.pendingHead, users: [...this.pending.keys()].sort(), pos: 0 };
    }
    const s = this.snapshot;
    /** Users merged, and how many of their seqs. */
    const merged: Array<[string, number]> = [];
    let pos = s.pos;
    this.db.pragma('synchronous = NORMAL');
    const deadline = performance.now() + maxMs;
    try {
      this.db.transaction(() => {
        let rows = 0;
        while (pos < s.users.length && rows < maxRows && (rows === 0 || performance.now() < deadline)) {
          const userId = s.users[pos++] as string;
          const seqs = this.pending.get(userId);
          if (!seqs) continue;
          let k = 0;
          while (k < seqs.length && (seqs[k] as number) <= s.through) k++;
          if (k === 0) continue;
          this.insertDeliveries(userId, seqs, k);
          merged.push([userId, k]);
          rows += k;
        }
        if (pos >= s.users.length) this.stmt.deleteFanout.run(s.through);
      })();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
    // Committed: only now does this thread forget them.
    s.pos = pos;
    for (const [userId, k] of merged) {
      const seqs = this.pending.get(userId) as number[];
      if (k === seqs.length) this.pending.delete(userId);
      else this.pending.set(userId, seqs.slice(k));
      this.touched.add(userId);
    }
    if (pos >= s.users.length) this.snapshot = null;
    this.report = { users: merged.map(([userId]) => userId), through: s.through };
  }

  /**
   * Inside a read-state transaction: the user's pending deliveries go in first, so
   * the update and the counts cover them. Returns what to forget once committed.
   */
  mergeUser(userId: string): () => void {
    const seqs = this.pending.get(userId);
    if (!seqs) return () => undefined;
    this.insertDeliveries(userId, seqs, seqs.length);
    return () => {
      this.pending.delete(userId);
      this.touched.add(userId);
      this.report = { users: [userId], through: seqs[seqs.length - 1] as number };
    };
  }

  /**
   * `mergeUser` for several users: inside a change's transaction, so the rows it
   * deletes or updates are in `deliveries`. Returns what to forget once committed.
   */
  mergeUsers(userIds: readonly string[]): () => void {
    const merged = userIds.filter((userId) => {
      const seqs = this.pending.get(userId);
      if (seqs) this.insertDeliveries(userId, seqs, seqs.length);
      return seqs !== undefined;
    });
    const through = this.pendingHead;
    return () => {
      if (merged.length === 0) return;
      for (const userId of merged) {
        this.pending.delete(userId);
        this.touched.add(userId);
      }
      // Every seq those users had pending is at or below the head: all of them are merged.
      const users = this.report ? [...new Set([...this.report.users, ...merged])] : merged;
      this.report = { users, through: Math.max(through, this.report?.through ?? 0) };
    };
  }

  /** Whether `seq` is pending for `userId`: stored in the fan-out log, not merged yet. */
  isPending(userId: string, seq: number): boolean {
    return this.pending.get(userId)?.includes(seq) ?? false;
  }

  /**
   * Inside a collapse's transaction: `seq` leaves `userId`'s pending deliveries
   * without ever being merged (the caller takes the user out of its fan-out log
   * row, so a restart does not merge it either). Returns what to forget once
   * committed; the answer reports it, so the main thread forgets it too.
   */
  dropPending(userId: string, seq: number): () => void {
    return () => {
      const seqs = this.pending.get(userId);
      const i = seqs?.indexOf(seq) ?? -1;
      if (!seqs || i < 0) return;
      if (seqs.length === 1) this.pending.delete(userId);
      else seqs.splice(i, 1);
      this.dropped.push([userId, seq]);
    };
  }

  /**
   * One user's first `k` pending seqs (ascending) into `deliveries`, up to
   * MERGE_CHUNK rows per statement: `INSERT … SELECT` from a VALUES list of the
   * seqs costs less per row than a statement per row (docs/benchmarks.md, change
   * 17). A single row takes the one-row statement.
   */
  private insertDeliveries(userId: string, seqs: number[], k: number): void {
    let i = 0;
    while (k - i >= 2) {
      const n = Math.min(MERGE_CHUNK, k - i);
      let rows = this.mergeRows.get(n);
      if (!rows) {
        // The seqs' placeholders come first in the text, the user's last.
        const values = Array.from({ length: n }, () => '(?)').join(', ');
        rows = this.db.prepare(`WITH v(seq) AS (VALUES ${values}) INSERT OR IGNORE INTO deliveries (user_id, seq, read) SELECT ?, seq, 0 FROM v`);
        this.mergeRows.set(n, rows);
      }
      const args: Array<number | string> = seqs.slice(i, i + n);
      args.push(userId);
      rows.run(...args);
      i += n;
    }
    if (i < k) this.stmt.mergeDelivery.run(userId, seqs[i]);
  }
}
