import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import type { MergeTuning } from '../../lib/inbox/sqlite';
import type { AppendInput, InboxOptions } from '../../lib/inbox/types';

/** The SQLite suites' shared setup (sqlite*.test.ts): a fresh data directory per test, and helpers on it. */

export const tempDir = (): string => mkdtempSync(path.join(tmpdir(), 'herald-inbox-'));

/** Merges at once, one user per step, even between queued appends: reads see every mixture of merged and pending. */
export const MERGE_EAGERLY: Partial<MergeTuning> = { startRows: 1, rowsPerUser: 0, startAfterMs: 0, idleMs: 0, stepRows: 1, forceRows: 1 };
/** Never merges on its own: reads come from the fan-out log until a read mark or a sweep merges. */
export const MERGE_NEVER: Partial<MergeTuning> = { startRows: Infinity, startAfterMs: Infinity, idleMs: Infinity, forceRows: Infinity };

/** What a promise settled to, or a failure naming the bound: nothing here may hang. */
export async function settledWithin<T>(ms: number, promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SqliteSuite {
  readonly opts: InboxOptions;
  /** This test's data directory, removed after it. */
  readonly dir: string;
  /** A valid append with a fresh id for Alice; `createdAt` rises with each call. */
  input: (over?: Partial<AppendInput>) => AppendInput;
  /** A connection of the test's own, to look at or shape the file as a crash would leave it. */
  raw: <T>(fn: (db: Database.Database) => T) => T;
}

/** Call inside a `describe`: registers the per-test directory there. */
export function sqliteSuite(): SqliteSuite {
  const opts: InboxOptions = { maxPerUser: 500, ttlDays: 30 };
  let dir = '';
  let n = 0;
  beforeEach(() => {
    dir = tempDir();
    n = 0;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    opts,
    get dir() {
      return dir;
    },
    input(over = {}) {
      n++;
      return { id: `s-${n}`, userIds: ['alice'], entityType: 'like', data: { n }, createdAt: Date.UTC(2025, 0, 1) + n, ...over };
    },
    raw(fn) {
      const db = new Database(path.join(dir, 'herald.db'));
      try {
        return fn(db);
      } finally {
        db.close();
      }
    },
  };
}
