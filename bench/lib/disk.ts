import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

/**
 * The storage floor an idle push sits on: one-row SQLite commits in WAL mode
 * with `synchronous = FULL` (one fsync each, as Herald's writer commits), made
 * one at a time with a gap between them, in a scratch database beside Herald's
 * own (same file system). Reported beside the idle and half-rate latencies, as
 * the plain-http floor is beside throughput.
 */

export interface CommitFloor {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Value at quantile q of sorted values (nearest rank). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

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
      const ms: number[] = [];
      for (let i = 0; i < commits; i++) {
        const start = performance.now();
        insert.run(payload);
        ms.push(performance.now() - start);
        if (gapMs > 0) await sleep(gapMs);
      }
      ms.sort((a, b) => a - b);
      return { p50Ms: quantile(ms, 0.5), p99Ms: quantile(ms, 0.99), maxMs: ms.at(-1) ?? NaN };
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
