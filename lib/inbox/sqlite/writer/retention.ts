import type Database from 'better-sqlite3';
import { IDEMPOTENCY_WINDOW_MS } from '../../idempotency';
import type { InboxOptions, SweepResult } from '../../types';
import type { SweepStep } from '../messages';
import type { Merger } from './merge';

/** Rows deleted per retention step. */
const SWEEP_CHUNK = 1000;
/** A retention step that deleted nothing still hands the queue back after this long. */
const SWEEP_SLICE_MS = 5;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The writer's retention (`sweep`), in steps: each `yield` ends the request, so
 * appends that arrived meanwhile commit before the sweep goes on. Steps: merge what
 * is pending; the per-user cap; the age limit; expired idempotency keys.
 *
 * `deliveries` has no index by seq (merges insert user after user, and such an
 * index would get a page rewritten for nearly every row). Retention does without
 * it: each notification counts the users still holding it (`holders`), so the cap
 * deletes it with its last delivery, and the age limit walks users along the
 * primary key.
 *
 * It never deletes a delivery at or above the lowest seq still in `fanout`, nor one
 * the main thread may still hold as pending (`keepFrom`), so a merge run again can
 * never bring back what retention removed.
 */
export class Retention {
  /** Sweeps in progress, by the id the main thread gave them; each is resumed one step per request. */
  private readonly sweeps = new Map<number, Generator<void, SweepResult, void>>();
  /** The first sweep after a start looks at every user for the cap; later ones at the users merged since. */
  private firstSweep = true;
  /** The main thread's lowest pending seq, as of the current step's request. */
  private keepFrom = Number.MAX_SAFE_INTEGER;
  /** When the current step began (see SWEEP_SLICE_MS). */
  private stepStarted = 0;
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly merger: Merger,
    private readonly opts: InboxOptions,
  ) {
    this.stmt = {
      usersOverCap: db.prepare('SELECT user_id FROM deliveries GROUP BY user_id HAVING COUNT(*) > ?'),
      cutoffOf: db.prepare('SELECT seq FROM deliveries WHERE user_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?'),
      deleteUpTo: db.prepare(
        'DELETE FROM deliveries WHERE user_id = ? AND seq IN (SELECT seq FROM deliveries WHERE user_id = ? AND seq <= ? LIMIT ?) RETURNING seq',
      ),
      releaseHolder: db.prepare('UPDATE notifications SET holders = holders - 1 WHERE seq = ?'),
      deleteUnheld: db.prepare('DELETE FROM notifications WHERE seq = ? AND holders <= 0'),
      setPrunedThrough: db.prepare(
        `INSERT INTO user_state (user_id, pruned_through) VALUES (?, ?)
         ON CONFLICT (user_id) DO UPDATE SET pruned_through = MAX(pruned_through, excluded.pruned_through)`,
      ),
      newestOld: db.prepare('SELECT MAX(seq) AS s FROM notifications WHERE created_at < ?'),
      metaGet: db.prepare('SELECT value FROM meta WHERE key = ?'),
      metaSet: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      nextUser: db.prepare('SELECT user_id FROM deliveries WHERE user_id > ? ORDER BY user_id LIMIT 1'),
      deleteOld: db.prepare(
        'DELETE FROM deliveries WHERE user_id = ? AND seq IN (SELECT seq FROM deliveries WHERE user_id = ? AND seq <= ? LIMIT ?)',
      ),
      deleteOldNotifications: db.prepare('DELETE FROM notifications WHERE seq IN (SELECT seq FROM notifications WHERE seq <= ? LIMIT ?)'),
      deleteOldKeys: db.prepare('DELETE FROM idempotency WHERE created_at <= ?'),
      deleteOldChanges: db.prepare('DELETE FROM changes WHERE created_at <= ?'),
      deleteOldGroups: db.prepare('DELETE FROM collapse_groups WHERE seq <= ?'),
    };
  }

  /** Starts sweep `sweepId` and runs its first step. `keep`: the main thread's lowest pending seq (null: none). */
  start(sweepId: number, now: number, keep: number | null): SweepStep {
    const gen = this.sweep(now);
    this.sweeps.set(sweepId, gen);
    return this.step(sweepId, gen, keep);
  }

  /** Runs the next step of sweep `sweepId`. */
  next(sweepId: number, keep: number | null): SweepStep {
    return this.step(sweepId, this.sweeps.get(sweepId), keep);
  }

  /** Runs one step of a sweep; forgets it once it is done or failed. */
  private step(sweepId: number, gen: Generator<void, SweepResult, void> | undefined, keep: number | null): SweepStep {
    if (!gen) throw new Error(`no sweep ${sweepId} in progress`);
    this.keepFrom = keep ?? Number.MAX_SAFE_INTEGER;
    this.stepStarted = performance.now();
    try {
      const step = gen.next();
      if (!step.done) return { done: false };
      this.sweeps.delete(sweepId);
      return { done: true, result: step.value };
    } catch (err) {
      this.sweeps.delete(sweepId);
      throw err;
    }
  }

  /**
   * The highest seq retention may delete now: below everything still in the log
   * (it may be merged again after a restart) and below anything the main thread
   * may still list as pending.
   */
  private deletableThrough(): number {
    return Math.min(this.merger.oldestLogged() ?? Number.MAX_SAFE_INTEGER, this.keepFrom) - 1;
  }

  private *sweep(now: number): Generator<void, SweepResult, void> {
    const result: SweepResult = { deliveriesDeleted: 0, notificationsDeleted: 0, idempotencyDeleted: 0 };
    const overSlice = () => performance.now() - this.stepStarted >= SWEEP_SLICE_MS;

    // 0. Merge what is pending now, so that the cap counts it. Appends that arrive
    //    between the steps stay pending: they are newer than anything deleted below.
    const target = this.merger.head;
    for (;;) {
      const oldest = this.merger.oldestLogged();
      if (!this.merger.active && (oldest === null || oldest > target)) break;
      this.merger.step(SWEEP_CHUNK, SWEEP_SLICE_MS);
      yield;
    }

    // 1. Per-user cap: only users who received something can have grown past it.
    const touched = this.merger.takeTouched();
    let users: string[];
    if (this.firstSweep) {
      users = (this.stmt.usersOverCap.all(this.opts.maxPerUser) as Array<{ user_id: string }>).map((r) => r.user_id);
      this.firstSweep = false;
    } else {
      users = [...touched];
    }
    for (const userId of users) {
      // The newest `maxPerUser` stay; `cutoff` is the newest one that goes.
      const newestGoing = (this.stmt.cutoffOf.get(userId, this.opts.maxPerUser) as { seq: number } | undefined)?.seq;
      const cutoff = newestGoing === undefined ? undefined : Math.min(newestGoing, this.deletableThrough());
      if (cutoff === undefined || cutoff <= 0) {
        // Most touched users are under the cap: hand the queue back only now and then.
        if (overSlice()) yield;
        continue;
      }
      for (;;) {
        const n = this.db.transaction(() => {
          const gone = this.stmt.deleteUpTo.all(userId, userId, cutoff, SWEEP_CHUNK) as Array<{ seq: number }>;
          // A notification nobody holds any more goes with its last delivery.
          for (const { seq } of gone) {
            this.stmt.releaseHolder.run(seq);
            result.notificationsDeleted += this.stmt.deleteUnheld.run(seq).changes;
          }
          this.stmt.setPrunedThrough.run(userId, cutoff);
          return gone.length;
        })();
        result.deliveriesDeleted += n;
        yield;
        if (n < SWEEP_CHUNK) break;
      }
    }

    // 2. Age: everything created before the cutoff goes, for every user, found user
    //    by user along the primary key.
    const ttlCutoff = now - this.opts.ttlDays * DAY_MS;
    const oldSeq = (this.stmt.newestOld.get(ttlCutoff) as { s: number | null }).s;
    const ttlSeq = oldSeq === null ? null : Math.min(oldSeq, this.deletableThrough());
    // Only when something crossed the age limit since the last walk that finished
    // (a stop in the middle of one leaves this behind, and the next sweep goes again).
    const done = this.meta('ttl_swept_through');
    if (ttlSeq !== null && ttlSeq > done) {
      // Watermark first: while the chunks below run, a client behind it already gets
      // sync_reset rather than a replay with a hole in it.
      if (ttlSeq > this.meta('ttl_pruned_through')) this.stmt.metaSet.run('ttl_pruned_through', ttlSeq);
      let after = '';
      for (;;) {
        const next = this.stmt.nextUser.get(after) as { user_id: string } | undefined;
        if (!next) break;
        after = next.user_id;
        for (;;) {
          const n = this.stmt.deleteOld.run(after, after, ttlSeq, SWEEP_CHUNK).changes;
          result.deliveriesDeleted += n;
          if (n < SWEEP_CHUNK) break;
          yield;
        }
        if (overSlice()) yield;
      }
      // No delivery of these is left: the notifications go too.
      for (;;) {
        const n = this.stmt.deleteOldNotifications.run(ttlSeq, SWEEP_CHUNK).changes;
        result.notificationsDeleted += n;
        if (n < SWEEP_CHUNK) break;
        yield;
      }
      this.stmt.metaSet.run('ttl_swept_through', ttlSeq);
      // Groups headed by what is gone start afresh.
      this.stmt.deleteOldGroups.run(ttlSeq);
    }
    // Changes age like notifications: a client behind the age limit gets a reset anyway.
    this.stmt.deleteOldChanges.run(ttlCutoff);

    // 3. Idempotency keys past their window.
    result.idempotencyDeleted = this.stmt.deleteOldKeys.run(now - IDEMPOTENCY_WINDOW_MS).changes;
    return result;
  }

  private meta(key: string): number {
    return (this.stmt.metaGet.get(key) as { value: number } | undefined)?.value ?? 0;
  }
}
