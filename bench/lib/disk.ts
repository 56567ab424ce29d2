import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { Histogram, summarize, type LatencySummary } from './hist';

/**
 * The storage floor an idle push sits on: one-row SQLite commits in WAL mode
 * with `synchronous = FULL` (one fsync each, as Herald's writer commits), made
 * one at a time with a gap between them, in a scratch database beside Herald's
 * own (same file system). Reported beside the idle and half-rate latencies, as
 * the plain-http floor is beside throughput.
 */

/** Latency of the commits, summarized like every other latency in the harness. */
export type CommitFloor = Pick<LatencySummary, 'p50Ms' | 'p99Ms' | 'maxMs'>;

export async function commitFloor(parentDir: string, commits: number, gapMs: number): Promise<CommitFloor> {
  const dir = mkdtempSync(path.join(parentDir, 'commit-floor-'));
  try {
    const db = new Database(path.join(dir, 'floor.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      const payload = 'x'.repeat(150);
      const hist = new Histogram();
      for (let i = 0; i < commits; i++) {
        const start = performance.now();
        insert.run(payload);
        hist.record((performance.now() - start) * 1000);
        if (gapMs > 0) await sleep(gapMs);
      }
      const { p50Ms, p99Ms, maxMs } = summarize(hist);
      return { p50Ms, p99Ms, maxMs };
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
