import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdempotencyConflictError, InboxUnavailableError } from '../../lib/errors';
import type { JsonValue } from '../../lib/protocol';
import { eventually } from '../support/socket';
import { runInboxContract, storedOf } from './contract';
import { openSqliteInbox, type MergeTuning, type SqliteInbox } from '../../lib/inbox/sqlite';
import type { AppendInput, InboxOptions } from '../../lib/inbox/types';

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'herald-inbox-'));

/** What a promise settled to, or a failure naming the bound: nothing here may hang. */
async function settledWithin<T>(ms: number, promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
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

/** Merges at once, one user per step, even between queued appends: reads see every mixture of merged and pending. */
const MERGE_EAGERLY: Partial<MergeTuning> = { startRows: 1, rowsPerUser: 0, startAfterMs: 0, idleMs: 0, stepRows: 1, forceRows: 1 };
/** Never merges on its own: reads come from the fan-out log until a read mark or a sweep merges. */
const MERGE_NEVER: Partial<MergeTuning> = { startRows: Infinity, startAfterMs: Infinity, idleMs: Infinity, forceRows: Infinity };

for (const [name, merge] of [
  ['sqlite', {}],
  ['sqlite, merging eagerly', MERGE_EAGERLY],
  ['sqlite, never merging on its own', MERGE_NEVER],
] as const) {
  runInboxContract(name, async (opts) => {
    const dir = tempDir();
    return {
      inbox: openSqliteInbox(dir, opts, undefined, merge),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });
}

describe('SQLite inbox', () => {
  const opts: InboxOptions = { maxPerUser: 500, ttlDays: 30 };
  let dir: string;
  let n = 0;
  const input = (over: Partial<AppendInput> = {}): AppendInput => {
    n++;
    return { id: `s-${n}`, userIds: ['alice'], entityType: 'like', data: { n }, createdAt: Date.UTC(2025, 0, 1) + n, ...over };
  };

  beforeEach(() => {
    dir = tempDir();
    n = 0;
  });
  /** A connection of the test's own, to look at or shape the file as a crash would leave it. */
  function raw<T>(fn: (db: Database.Database) => T): T {
    const db = new Database(path.join(dir, 'herald.db'));
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates its data directory and database file', async () => {
    const nested = path.join(dir, 'a', 'b');
    const inbox = openSqliteInbox(nested, opts);
    await inbox.close();
    expect(existsSync(path.join(nested, 'herald.db'))).toBe(true);
  });

  it('runs in WAL mode', async () => {
    const inbox = openSqliteInbox(dir, opts);
    storedOf(await inbox.append(input()));
    const db = new Database(path.join(dir, 'herald.db'), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
      await inbox.close();
    }
  });

  it('keeps notifications, read state and idempotency keys across reopening the file', async () => {
    const first = openSqliteInbox(dir, opts);
    const a = storedOf(await first.append(input({ userIds: ['alice', 'bob'] })));
    const b = storedOf(await first.append(input({ idempotency: { key: 'k1', bodyHash: 'h' } })));
    await first.saveResponse('k1', { id: b.id, recipients: 1, online: 0 });
    await first.markRead('alice', [a.id]);
    await first.close();

    const second = openSqliteInbox(dir, opts);
    try {
      expect((await second.since('alice', 0, 10)).items).toEqual([{ ...a, read: true }, b]);
      expect((await second.since('bob', 0, 10)).items).toEqual([a]);
      expect(await second.summary('alice')).toEqual({ unread: 1, headSeq: b.seq });
      expect(await second.append(input({ idempotency: { key: 'k1', bodyHash: 'h' } }))).toEqual({
        status: 'duplicate',
        id: b.id,
        recipients: 1,
        response: { id: b.id, recipients: 1, online: 0 },
      });
      // Seqs keep rising after a restart.
      const c = storedOf(await second.append(input()));
      expect(c.seq).toBeGreaterThan(b.seq);
    } finally {
      await second.close();
    }
  });

  it('commits an append that was queued when close() was called', async () => {
    const first = openSqliteInbox(dir, opts);
    const pending = first.append(input({ id: 'queued' }));
    await first.close();
    expect((await pending).status).toBe('stored');

    const second = openSqliteInbox(dir, opts);
    try {
      expect((await second.since('alice', 0, 10)).items.map((i) => i.id)).toEqual(['queued']);
    } finally {
      await second.close();
    }
  });

  it('remembers what retention removed across reopening, so a stale client still gets a reset', async () => {
    const first = openSqliteInbox(dir, { maxPerUser: 2, ttlDays: 30 });
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) seqs.push(storedOf(await first.append(input())).seq);
    await first.sweep(Date.UTC(2025, 0, 2));
    await first.close();

    const second = openSqliteInbox(dir, { maxPerUser: 2, ttlDays: 30 });
    try {
      expect((await second.since('alice', seqs[0] ?? 0, 10)).reset).toBe(true);
      expect((await second.since('alice', seqs[1] ?? 0, 10)).reset).toBe(false);
    } finally {
      await second.close();
    }
  });

  it('enforces a lower cap on the first sweep after reopening, for users stored before', async () => {
    const first = openSqliteInbox(dir, { maxPerUser: 100, ttlDays: 30 });
    for (let i = 0; i < 5; i++) await first.append(input());
    await first.close();

    const second = openSqliteInbox(dir, { maxPerUser: 3, ttlDays: 30 });
    try {
      await second.sweep(Date.UTC(2025, 0, 2));
      expect((await second.list('alice', { limit: 10 })).items.map((i) => i.id)).toEqual(['s-5', 's-4', 's-3']);
    } finally {
      await second.close();
    }
  });

  it('upgrades a file of schema 1 (a delivery row per recipient, an index by seq) and keeps retention exact', async () => {
    raw((db) => {
      db.exec(`
        CREATE TABLE notifications (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
          entity_type TEXT NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL);
        CREATE INDEX notifications_created_at ON notifications (created_at);
        CREATE TABLE deliveries (user_id TEXT NOT NULL, seq INTEGER NOT NULL, read INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (user_id, seq)) WITHOUT ROWID;
        CREATE INDEX deliveries_seq ON deliveries (seq);
        CREATE TABLE idempotency (key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, notification_id TEXT NOT NULL,
          recipients INTEGER NOT NULL, response TEXT, created_at INTEGER NOT NULL);
        CREATE INDEX idempotency_created_at ON idempotency (created_at);
        CREATE TABLE user_state (user_id TEXT PRIMARY KEY, pruned_through INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO notifications (id, entity_type, data, created_at) VALUES
          ('old-shared', 'like', '{}', ${Date.UTC(2025, 0, 1)}), ('old-alice', 'like', '{}', ${Date.UTC(2025, 0, 1) + 1});
        INSERT INTO deliveries (user_id, seq, read) VALUES ('alice', 1, 1), ('bob', 1, 0), ('alice', 2, 0);
        PRAGMA user_version = 1;
      `);
    });
    const inbox = openSqliteInbox(dir, { maxPerUser: 1, ttlDays: 30 });
    try {
      expect((await inbox.since('alice', 0, 10)).items.map((i) => [i.id, i.read])).toEqual([
        ['old-shared', true],
        ['old-alice', false],
      ]);
      const added = storedOf(await inbox.append(input({ userIds: ['carol', 'dora'] })));
      expect(added.seq).toBe(3);
      // Holders were counted from the old rows: the cap takes Alice's copy of the
      // shared one, and it stays for Bob.
      expect(await inbox.sweep(Date.UTC(2025, 0, 2))).toMatchObject({ deliveriesDeleted: 1, notificationsDeleted: 0 });
      expect((await inbox.list('alice', { limit: 10 })).items.map((i) => i.id)).toEqual(['old-alice']);
      expect((await inbox.list('bob', { limit: 10 })).items.map((i) => i.id)).toEqual(['old-shared']);
      raw((db) => {
        expect(db.pragma('user_version', { simple: true })).toBe(3);
        expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'deliveries_seq'").all()).toEqual([]);
        expect(db.prepare('SELECT id, holders FROM notifications ORDER BY seq').all()).toEqual([
          { id: 'old-shared', holders: 1 },
          { id: 'old-alice', holders: 1 },
          { id: added.id, holders: 2 },
        ]);
      });
    } finally {
      await inbox.close();
    }
  });

  it('finishes an age sweep that a stop cut short, though nothing newer has expired', async () => {
    const first = openSqliteInbox(dir, { maxPerUser: 100, ttlDays: 1 });
    const old = storedOf(await first.append(input({ userIds: ['alice', 'bob'], createdAt: Date.UTC(2025, 0, 1) })));
    await first.sweep(Date.UTC(2025, 0, 1, 12));
    await first.close();
    // What a stop after the watermark and before the deletions leaves behind.
    raw((db) => db.prepare("INSERT INTO meta (key, value) VALUES ('ttl_pruned_through', ?)").run(old.seq));

    const second = openSqliteInbox(dir, { maxPerUser: 100, ttlDays: 1 });
    try {
      expect(await second.sweep(Date.UTC(2025, 0, 5))).toMatchObject({ deliveriesDeleted: 2, notificationsDeleted: 1 });
      expect((await second.list('bob', { limit: 10 })).items).toEqual([]);
    } finally {
      await second.close();
    }
  });

  describe('fan-out log', () => {
    const rowCounts = () =>
      raw((db) => ({
        deliveries: (db.prepare('SELECT COUNT(*) AS n FROM deliveries').get() as { n: number }).n,
        fanout: (db.prepare('SELECT COUNT(*) AS n FROM fanout').get() as { n: number }).n,
      }));
    /** Everything a reader sees of these users. */
    async function views(inbox: SqliteInbox, users: string[]) {
      const out: Record<string, unknown> = {};
      for (const u of users) {
        out[u] = {
          since: await inbox.since(u, 0, 100),
          list: await inbox.list(u, { limit: 100 }),
          page: await inbox.list(u, { limit: 2 }),
          summary: await inbox.summary(u),
        };
      }
      return out;
    }

    it('stores a push as one log row, merges its deliveries later, and reads the same before and after', async () => {
      const inbox = openSqliteInbox(dir, opts, undefined, MERGE_NEVER);
      try {
        const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
        for (let i = 0; i < 5; i++) await inbox.append(input({ userIds: users.filter((_, j) => (j + i) % 3 !== 0) }));
        expect(rowCounts()).toEqual({ deliveries: 0, fanout: 5 });
        expect(inbox.backlog()).toBe(100);
        const before = await views(inbox, users);

        await inbox.mergeAll();
        expect(rowCounts()).toEqual({ deliveries: 100, fanout: 0 });
        expect(inbox.backlog()).toBe(0);
        expect(await views(inbox, users)).toEqual(before);
      } finally {
        await inbox.close();
      }
    });

    it('merges any number of rows per user into exactly those delivery rows (multi-row inserts of up to 32)', async () => {
      const inbox = openSqliteInbox(dir, opts, undefined, MERGE_NEVER);
      try {
        // user-n gets n pushes: on both sides of each multi-row statement's size.
        const counts = [1, 2, 3, 31, 32, 33, 64, 65, 70];
        const expected: Array<{ user_id: string; seq: number }> = [];
        for (let i = 0; i < 70; i++) {
          const userIds = counts.filter((n) => n > i).map((n) => `user-${n}`);
          const stored = storedOf(await inbox.append(input({ userIds })));
          for (const u of userIds) expected.push({ user_id: u, seq: stored.seq });
        }
        const users = counts.map((n) => `user-${n}`);
        const before = await views(inbox, users);
        // One user merged by a read mark (its own transaction), the rest by a merge.
        expect(inbox.backlog()).toBe(expected.length);
        await inbox.markRead('user-65', []);
        expect(inbox.backlog()).toBe(expected.length - 65);
        await inbox.mergeAll();
        const rows = raw((db) => db.prepare('SELECT user_id, seq FROM deliveries ORDER BY user_id, seq').all());
        const byUserSeq = (a: { user_id: string; seq: number }, b: { user_id: string; seq: number }) =>
          a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : a.seq - b.seq;
        expect(rows).toEqual([...expected].sort(byUserSeq));
        expect(await views(inbox, users)).toEqual(before);
      } finally {
        await inbox.close();
      }
    });

    it('merges on its own once users have enough rows each, in steps, with appends going on', async () => {
      const inbox = openSqliteInbox(dir, opts, undefined, { startRows: 10, rowsPerUser: 3, startAfterMs: Infinity, idleMs: Infinity, stepRows: 7 });
      try {
        const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
        for (let i = 0; i < 2; i++) await inbox.append(input({ userIds: users }));
        // 40 rows, past startRows, but 2 per user: a merge now would write a page per 2 rows.
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(rowCounts()).toEqual({ deliveries: 0, fanout: 2 });
        const all = await Promise.all(Array.from({ length: 10 }, () => inbox.append(input({ userIds: users }))));
        await eventually(() => inbox.backlog() === 0);
        expect(rowCounts()).toEqual({ deliveries: 240, fanout: 0 });
        const last = storedOf(all[9] as Awaited<(typeof all)[number]>);
        expect(await inbox.summary('user-3')).toEqual({ unread: 12, headSeq: last.seq });
      } finally {
        await inbox.close();
      }
    });

    it('ends a merge step once it has taken stepMs, after at least one whole user', async () => {
      const users = Array.from({ length: 10 }, (_, i) => `user-${i}`);
      const stepsFor = async (stepMs: number): Promise<number> => {
        const inbox = openSqliteInbox(path.join(dir, `steps-${stepMs}`), opts, undefined, {
          startRows: Infinity,
          startAfterMs: Infinity,
          idleMs: Infinity,
          stepRows: 1_000,
          stepMs,
        });
        try {
          for (let i = 0; i < 3; i++) await inbox.append(input({ userIds: users }));
          await inbox.mergeAll();
          expect(inbox.backlog()).toBe(0);
          expect(await inbox.summary('user-9')).toMatchObject({ unread: 3 });
          return inbox.stats().mergeSteps;
        } finally {
          await inbox.close();
        }
      };
      // No time at all: each step still merges one user (3 rows), so the merge goes on. (Steps the
      // inbox sends itself while a merge is active may add one that finds nothing left.)
      const steps = await stepsFor(0);
      expect(steps).toBeGreaterThanOrEqual(users.length);
      expect(steps).toBeLessThanOrEqual(users.length + 1);
      // Time enough: one step takes all 30 rows (stepRows allows 1,000).
      expect(await stepsFor(60_000)).toBe(1);
    });

    it('holds appends back while the backlog is over forceRows, so it stays bounded under overload', async () => {
      const inbox = openSqliteInbox(dir, opts, undefined, {
        startRows: Infinity,
        startAfterMs: Infinity,
        idleMs: Infinity,
        stepRows: 10,
        forceRows: 100,
      });
      try {
        const users = Array.from({ length: 5 }, (_, i) => `user-${i}`);
        let peak = 0;
        // Waves of 10 concurrent pushes to 5 users: 50 rows per batch, 5 per merge step.
        for (let wave = 0; wave < 20; wave++) {
          await Promise.all(
            Array.from({ length: 10 }, () => inbox.append(input({ userIds: users })).then(() => (peak = Math.max(peak, inbox.backlog())))),
          );
        }
        // One batch over the bound at most. Without the hold the peak grows with the
        // batch size: each batch may add more than one step merges.
        expect(peak).toBeLessThanOrEqual(150);
        expect(inbox.backlog()).toBeLessThanOrEqual(150);
        await inbox.mergeAll();
        expect(rowCounts()).toEqual({ deliveries: 1000, fanout: 0 });
      } finally {
        await inbox.close();
      }
    });

    it('merges what was pending after some time, with writes going on', async () => {
      const inbox = openSqliteInbox(dir, opts, undefined, { startRows: Infinity, startAfterMs: 150, idleMs: Infinity });
      try {
        await inbox.append(input({ userIds: ['alice', 'bob'] }));
        // A write every 20 ms: never idle, and the rows still get merged once old enough.
        const started = Date.now();
        while (inbox.backlog() > 0 && Date.now() - started < 5_000) {
          await inbox.markAllRead('carol');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(Date.now() - started).toBeGreaterThanOrEqual(100);
        expect(rowCounts()).toEqual({ deliveries: 2, fanout: 0 });
      } finally {
        await inbox.close();
      }
    });

    it('merges what is pending once no write has come for a while', async () => {
      const inbox = openSqliteInbox(dir, opts, undefined, { startRows: Infinity, startAfterMs: Infinity, idleMs: 30 });
      try {
        await inbox.append(input({ userIds: ['alice', 'bob'] }));
        expect(inbox.backlog()).toBe(2);
        // The answer that says so comes after the commit: wait for it, then look at the file.
        await eventually(() => inbox.backlog() === 0);
        expect(rowCounts()).toEqual({ deliveries: 2, fanout: 0 });
      } finally {
        await inbox.close();
      }
    });

    it('copies the WAL into the database on a thread of its own, not inside commits', async () => {
      const inbox = openSqliteInbox(dir, opts);
      try {
        for (let i = 0; i < 20; i++) await inbox.append(input({ userIds: ['alice', 'bob'] }));
        let stats = await inbox.checkpoints();
        for (let i = 0; i < 100 && stats.frames === 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          stats = await inbox.checkpoints();
        }
        expect(stats.checkpoints).toBeGreaterThan(0);
        expect(stats.frames).toBeGreaterThan(0);
      } finally {
        await inbox.close();
      }
      // Closing stopped it too: the file opens again and holds everything.
      const again = openSqliteInbox(dir, opts);
      try {
        expect((await again.summary('bob')).unread).toBe(20);
      } finally {
        await again.close();
      }
    });

    it('reads what a stop left in the log, and merges it once after the restart', async () => {
      const first = openSqliteInbox(dir, opts, undefined, MERGE_NEVER);
      const users = ['alice', 'bob', 'carol'];
      for (let i = 0; i < 4; i++) await first.append(input({ userIds: users.slice(i % 2) }));
      const before = await views(first, users);
      await first.close();
      expect(rowCounts()).toEqual({ deliveries: 0, fanout: 4 });

      const second = openSqliteInbox(dir, opts, undefined, MERGE_NEVER);
      try {
        expect(await views(second, users)).toEqual(before);
        await second.mergeAll();
        expect(rowCounts()).toEqual({ deliveries: 10, fanout: 0 });
        expect(await views(second, users)).toEqual(before);
      } finally {
        await second.close();
      }
    });

    it('after a stop in the middle of a merge, counts nothing twice and keeps read marks made in between', async () => {
      const first = openSqliteInbox(dir, opts, undefined, MERGE_NEVER);
      const seqs: number[] = [];
      for (let i = 0; i < 4; i++) seqs.push(storedOf(await first.append(input({ userIds: ['alice', 'bob'] }))).seq);
      await first.close();
      // What a merge that got through alice's first two, then a read mark, leave behind.
      raw((db) => {
        db.prepare('INSERT INTO deliveries (user_id, seq, read) VALUES (?, ?, 0), (?, ?, 1)').run('alice', seqs[0], 'alice', seqs[1]);
      });

      const second = openSqliteInbox(dir, opts, undefined, MERGE_NEVER);
      try {
        const items = (await second.since('alice', 0, 10)).items;
        expect(items.map((i) => [i.seq, i.read])).toEqual([
          [seqs[0], false],
          [seqs[1], true],
          [seqs[2], false],
          [seqs[3], false],
        ]);
        expect(await second.summary('alice')).toEqual({ unread: 3, headSeq: seqs[3] });
        expect((await second.list('alice', { limit: 3 })).items.map((i) => i.seq)).toEqual([seqs[3], seqs[2], seqs[1]]);
        await second.mergeAll();
        expect(rowCounts()).toEqual({ deliveries: 8, fanout: 0 });
        expect((await second.since('alice', 0, 10)).items).toEqual(items);
        expect(await second.summary('bob')).toEqual({ unread: 4, headSeq: seqs[3] });
      } finally {
        await second.close();
      }
    });

    it('marks pending notifications read by merging that user first; the others stay pending', async () => {
      const inbox = openSqliteInbox(dir, opts, undefined, MERGE_NEVER);
      try {
        const a = storedOf(await inbox.append(input({ userIds: ['alice', 'bob'] })));
        const b = storedOf(await inbox.append(input({ userIds: ['alice', 'bob'] })));
        expect(await inbox.markRead('alice', [a.id])).toEqual({ unread: 1, headSeq: b.seq, readIds: [a.id] });
        expect(inbox.backlog()).toBe(2); // bob's
        expect((await inbox.since('alice', 0, 10)).items.map((i) => [i.id, i.read])).toEqual([
          [a.id, true],
          [b.id, false],
        ]);
        expect(await inbox.markAllRead('bob')).toEqual({ unread: 0, headSeq: b.seq, readIds: [], all: true });
        expect(inbox.backlog()).toBe(0);
        // The log rows stay until a merge covers them; merging again changes nothing.
        expect(rowCounts()).toEqual({ deliveries: 4, fanout: 2 });
        await inbox.append(input({ userIds: ['carol'] }));
        await inbox.mergeAll();
        expect(rowCounts()).toEqual({ deliveries: 5, fanout: 0 });
        expect(await inbox.summary('alice')).toEqual({ unread: 1, headSeq: b.seq });
        expect(await inbox.summary('bob')).toEqual({ unread: 0, headSeq: b.seq });
      } finally {
        await inbox.close();
      }
    });

    it('finishes a sweep when read marks have merged every recipient of what is still in the log', async () => {
      const inbox = openSqliteInbox(dir, opts, undefined, MERGE_NEVER);
      try {
        await inbox.append(input({ userIds: ['alice'] }));
        await inbox.markAllRead('alice');
        expect(inbox.backlog()).toBe(0);
        expect(rowCounts()).toEqual({ deliveries: 1, fanout: 1 });
        expect(await settledWithin(3_000, inbox.sweep(Date.UTC(2025, 0, 2)))).toEqual({
          value: { deliveriesDeleted: 0, notificationsDeleted: 0, idempotencyDeleted: 0 },
        });
        expect(rowCounts()).toEqual({ deliveries: 1, fanout: 0 });
      } finally {
        await inbox.close();
      }
    });

    it('applies the cap in a sweep asked for while a merge is in the worker', async () => {
      const inbox = openSqliteInbox(dir, { maxPerUser: 1, ttlDays: 30 }, undefined, MERGE_NEVER);
      try {
        await inbox.append(input({ userIds: ['alice', 'bob'] }));
        const newest = storedOf(await inbox.append(input()));
        // The merge is sent first; the sweep is asked for before its answer is in. A sweep
        // told what was pending before that answer would spare Alice's older row.
        const merging = inbox.mergeAll();
        const swept = await inbox.sweep(Date.UTC(2025, 0, 2));
        await merging;
        expect(swept.deliveriesDeleted).toBe(1);
        expect((await inbox.list('alice', { limit: 10 })).items.map((i) => i.id)).toEqual([newest.id]);
        expect((await inbox.list('bob', { limit: 10 })).items).toHaveLength(1);
      } finally {
        await inbox.close();
      }
    });

    it('lets retention merge what is pending first, including a merge that a stop cut short', async () => {
      const inbox = openSqliteInbox(dir, { maxPerUser: 2, ttlDays: 30 }, undefined, MERGE_NEVER);
      try {
        for (let i = 0; i < 5; i++) await inbox.append(input());
        const result = await inbox.sweep(Date.UTC(2025, 0, 2));
        expect(result.deliveriesDeleted).toBe(3);
        expect((await inbox.list('alice', { limit: 10 })).items.map((i) => i.id)).toEqual(['s-5', 's-4']);
        expect(rowCounts()).toEqual({ deliveries: 2, fanout: 0 });
      } finally {
        await inbox.close();
      }

      // A log row whose merge a stop cut short: merged again (nothing doubled), then aged out.
      const again = openSqliteInbox(dir, { maxPerUser: 2, ttlDays: 30 }, undefined, MERGE_NEVER);
      const kept = storedOf(await again.append(input({ userIds: ['dora'] })));
      await again.close();
      raw((db) => db.prepare('INSERT INTO deliveries (user_id, seq, read) VALUES (?, ?, 0)').run('dora', kept.seq));
      const third = openSqliteInbox(dir, { maxPerUser: 2, ttlDays: 30 }, undefined, MERGE_NEVER);
      try {
        // Sixty days on, everything is past ttlDays; the sweep merges dora's row, then deletes it.
        await third.sweep(Date.UTC(2025, 2, 2));
        expect(rowCounts()).toEqual({ deliveries: 0, fanout: 0 });
        expect((await third.list('dora', { limit: 10 })).items).toEqual([]);
        expect((await third.since('dora', 0, 10)).reset).toBe(true);
      } finally {
        await third.close();
      }
    });
  });

  describe('writer thread', () => {
    const errorOf = (outcome: { value: unknown } | { error: unknown }): unknown => ('error' in outcome ? outcome.error : undefined);
    /** The worker, reached past `private`: only these tests kill it. */
    const writerOf = (inbox: SqliteInbox) => inbox['queue']['writer'];

    it('commits concurrent appends in few transactions, in call order, up to 512 per transaction', async () => {
      const inbox = openSqliteInbox(dir, opts);
      try {
        const results = await Promise.all(Array.from({ length: 300 }, (_, i) => inbox.append(input({ id: `c-${i}` }))));
        const seqs = results.map((r) => storedOf(r).seq);
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? Infinity);
        // All 300 arrived in one turn of the loop, with the writer idle: one transaction.
        expect(inbox.stats()).toMatchObject({ batches: 1, appends: 300 });

        // 1100 at once: the first 512 go, the rest wait for that commit and follow, 512 at most each.
        const more = await Promise.all(Array.from({ length: 1100 }, (_, i) => inbox.append(input({ id: `d-${i}`, userIds: ['bob'] }))));
        const moreSeqs = more.map((r) => storedOf(r).seq);
        expect(moreSeqs[0]).toBeGreaterThan(seqs[299] ?? Infinity);
        for (let i = 1; i < moreSeqs.length; i++) expect(moreSeqs[i]).toBeGreaterThan(moreSeqs[i - 1] ?? Infinity);
        expect(inbox.stats()).toMatchObject({ batches: 4, appends: 1400 });
      } finally {
        await inbox.close();
      }
    });

    it('builds the stored notification on the main thread, exactly as it is read back', async () => {
      const inbox = openSqliteInbox(dir, opts);
      try {
        const data: JsonValue = { nested: { list: [1, 'two', null, true] }, text: 'ünïcødé ✓' };
        const n = storedOf(await inbox.append(input({ id: 'shape', data, createdAt: Date.UTC(2025, 5, 1) })));
        expect(n).toEqual({ id: 'shape', seq: expect.any(Number), entityType: 'like', data, createdAt: '2025-06-01T00:00:00.000Z', read: false });
        expect((await inbox.since('alice', 0, 10)).items).toEqual([n]);
      } finally {
        await inbox.close();
      }
    });

    it('lets a read made right after an awaited write see it', async () => {
      const inbox = openSqliteInbox(dir, opts);
      try {
        for (let i = 0; i < 50; i++) {
          const n = storedOf(await inbox.append(input()));
          expect((await inbox.since('alice', n.seq - 1, 10)).items.map((x) => x.id)).toEqual([n.id]);
          expect(await inbox.summary('alice')).toEqual({ unread: i + 1, headSeq: n.seq });
        }
        const first = (await inbox.list('alice', { limit: 100 })).items.at(-1);
        await inbox.markRead('alice', [first?.id ?? '']);
        expect((await inbox.list('alice', { limit: 100 })).items.at(-1)?.read).toBe(true);
        await inbox.markAllRead('alice');
        expect((await inbox.summary('alice')).unread).toBe(0);
      } finally {
        await inbox.close();
      }
    });

    it('keeps writes in call order across kinds: a markAllRead queued between appends covers only those before it', async () => {
      const inbox = openSqliteInbox(dir, opts);
      try {
        const before = inbox.append(input({ id: 'before' }));
        const readAll = inbox.markAllRead('alice');
        const after = inbox.append(input({ id: 'after' }));
        const [b, state, a] = await Promise.all([before, readAll, after]);
        expect(state).toEqual({ unread: 0, headSeq: storedOf(b).seq, readIds: [], all: true });
        expect((await inbox.since('alice', 0, 10)).items.map((i) => [i.id, i.read])).toEqual([
          ['before', true],
          [storedOf(a).id, false],
        ]);
      } finally {
        await inbox.close();
      }
    });

    it('rejects the whole batch of a failed transaction as unavailable, keeps conflicts to their own append, and goes on', async () => {
      const inbox = openSqliteInbox(dir, opts);
      try {
        await inbox.append(input({ id: 'taken' }));
        const broken = await Promise.allSettled([
          inbox.append(input({ id: 'ok-1' })),
          // NOT NULL violation: the transaction fails, and with it the batch.
          inbox.append(input({ id: 'bad', entityType: null as unknown as string })),
        ]);
        for (const outcome of broken) {
          expect(outcome.status).toBe('rejected');
          expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(InboxUnavailableError);
        }
        const mixed = await Promise.allSettled([inbox.append(input({ id: 'taken' })), inbox.append(input({ id: 'ok-2' }))]);
        expect(mixed[0]?.status === 'rejected' && mixed[0].reason).toBeInstanceOf(IdempotencyConflictError);
        expect(mixed[1]?.status).toBe('fulfilled');
        expect((await inbox.since('alice', 0, 10)).items.map((i) => i.id)).toEqual(['taken', 'ok-2']);
      } finally {
        await inbox.close();
      }
    });

    it('commits on close() everything still queued, and then refuses', async () => {
      const first = openSqliteInbox(dir, opts);
      const pending = Array.from({ length: 300 }, (_, i) => first.append(input({ id: `q-${i}` })));
      const readAll = first.markAllRead('alice');
      const last = first.append(input({ id: 'last' }));
      await first.close();
      const results = await Promise.all([...pending, last]);
      expect(results.every((r) => r.status === 'stored')).toBe(true);
      expect((await readAll).unread).toBe(0);
      await expect(first.append(input())).rejects.toBeInstanceOf(InboxUnavailableError);

      const second = openSqliteInbox(dir, opts);
      try {
        const items = (await second.since('alice', 0, 1000)).items;
        expect(items.map((i) => i.id)).toEqual([...Array.from({ length: 300 }, (_, i) => `q-${i}`), 'last']);
        expect(items.filter((i) => !i.read).map((i) => i.id)).toEqual(['last']);
      } finally {
        await second.close();
      }
    });

    it('lets pushes in between the steps of a long sweep', async () => {
      const inbox = openSqliteInbox(dir, { maxPerUser: 10, ttlDays: 30 });
      try {
        await Promise.all(Array.from({ length: 2500 }, () => inbox.append(input())));
        const order: string[] = [];
        const swept = inbox.sweep(Date.UTC(2025, 0, 2)).then((r) => {
          order.push('sweep');
          return r;
        });
        const pushed = inbox.append(input({ id: 'during' })).then((r) => {
          order.push('append');
          return r;
        });
        const [result] = await Promise.all([swept, pushed]);
        expect(order).toEqual(['append', 'sweep']);
        // 1000 rows per step: the sweep took several, and the push went between them.
        expect(result.deliveriesDeleted).toBeGreaterThanOrEqual(2490);
        expect((await inbox.list('alice', { limit: 100 })).items[0]?.id).toBe('during');
      } finally {
        await inbox.close();
      }
    });

    it('rejects pending and later writes as unavailable when the writer dies, instead of hanging', async () => {
      const inbox = openSqliteInbox(dir, opts);
      const stored = storedOf(await inbox.append(input({ id: 'before' })));
      const inFlight = Array.from({ length: 20 }, () => inbox.append(input()));
      await new Promise((resolve) => setImmediate(resolve)); // that batch is now in the worker
      const queued = Array.from({ length: 20 }, () => inbox.append(input()));
      await writerOf(inbox).terminate();

      for (const p of [...inFlight, ...queued]) {
        expect(errorOf(await settledWithin(2000, p))).toBeInstanceOf(InboxUnavailableError);
      }
      const later: Array<Promise<unknown>> = [
        inbox.append(input()),
        inbox.saveResponse('k', { id: 'x', recipients: 1, online: 0 }),
        inbox.markRead('alice', [stored.id]),
        inbox.markAllRead('alice'),
        inbox.sweep(),
        inbox.ping(),
      ];
      for (const p of later) expect(errorOf(await settledWithin(2000, p))).toBeInstanceOf(InboxUnavailableError);
      // Reads do not need the writer.
      expect((await inbox.since('alice', 0, 10)).items.map((i) => i.id)).toEqual(['before']);
      expect('value' in (await settledWithin(2000, inbox.close()))).toBe(true);
      await expect(inbox.append(input())).rejects.toBeInstanceOf(InboxUnavailableError);
    });

    it('fails fast on an error event from the writer as well', async () => {
      const inbox = openSqliteInbox(dir, opts);
      const pending = inbox.append(input());
      writerOf(inbox).emit('error', new Error('boom'));
      const error = errorOf(await settledWithin(2000, pending));
      expect(error).toBeInstanceOf(InboxUnavailableError);
      expect((error as Error).message).toContain('boom');
      expect(errorOf(await settledWithin(2000, inbox.append(input())))).toBeInstanceOf(InboxUnavailableError);
      expect('value' in (await settledWithin(2000, inbox.close()))).toBe(true);
    });
  });
});
