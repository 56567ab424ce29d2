import 'server-only';

/** When the writer merges pending deliveries into `deliveries`. */
export interface MergeTuning {
  /** Start a merge, when the writer is idle, once at least this many rows are pending... */
  startRows: number;
  /** ...and as many as this per user with anything pending (a merge writes about one page per user)... */
  rowsPerUser: number;
  /** ...or once rows have been pending this long (ms)... */
  startAfterMs: number;
  /** ...or once no write has come for this long (ms): a merge then delays nobody. */
  idleMs: number;
  /** Rows per merge request: an append queued meanwhile waits for one request, not the whole merge. */
  stepRows: number;
  /** ...and at most this long (ms) per request: a step ends early, after its current user, once past it. */
  stepMs: number;
  /** Past this many pending rows, merge steps go first and appends wait for them. */
  forceRows: number;
}

/**
 * A merge writes about one page per user, whatever the user's row count, so it
 * waits until users have several rows each: 16 pushes' worth for a fan-out to
 * everyone, a few seconds of single-recipient pushes. A step stops at 1,000 rows
 * or 4 ms, so an append queued behind it waits for one step, not a whole merge.
 * docs/benchmarks.md (changes 8, 13 and 14) has the measurements behind these.
 */
export const DEFAULT_MERGE: MergeTuning = {
  startRows: 10_000,
  rowsPerUser: 16,
  startAfterMs: 10_000,
  idleMs: 250,
  stepRows: 1_000,
  stepMs: 4,
  forceRows: 200_000,
};
