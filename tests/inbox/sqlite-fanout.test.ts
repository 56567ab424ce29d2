import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteInbox, type SqliteInbox } from '../../lib/inbox/sqlite';
import { eventually } from '../support/socket';
import { storedOf } from './contract';
import { MERGE_NEVER, settledWithin, sqliteSuite } from './sqlite-suite';

/** The SQLite inbox's fan-out log: pushes stored as one log row, deliveries merged in later. */

describe('SQLite inbox: fan-out log', () => {
  const suite = sqliteSuite();
  const { opts, input, raw } = suite;

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
    const inbox = openSqliteInbox(suite.dir, opts, undefined, MERGE_NEVER);
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
    const inbox = openSqliteInbox(suite.dir, opts, undefined, MERGE_NEVER);
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
    const inbox = openSqliteInbox(suite.dir, opts, undefined, { startRows: 10, rowsPerUser: 3, startAfterMs: Infinity, idleMs: Infinity, stepRows: 7 });
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
      const inbox = openSqliteInbox(path.join(suite.dir, `steps-${stepMs}`), opts, undefined, {
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
    const inbox = openSqliteInbox(suite.dir, opts, undefined, {
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
    const inbox = openSqliteInbox(suite.dir, opts, undefined, { startRows: Infinity, startAfterMs: 150, idleMs: Infinity });
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
    const inbox = openSqliteInbox(suite.dir, opts, undefined, { startRows: Infinity, startAfterMs: Infinity, idleMs: 30 });
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
    const inbox = openSqliteInbox(suite.dir, opts);
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
    const again = openSqliteInbox(suite.dir, opts);
    try {
      expect((await again.summary('bob')).unread).toBe(20);
    } finally {
      await again.close();
    }
  });

  it('reads what a stop left in the log, and merges it once after the restart', async () => {
    const first = openSqliteInbox(suite.dir, opts, undefined, MERGE_NEVER);
    const users = ['alice', 'bob', 'carol'];
    for (let i = 0; i < 4; i++) await first.append(input({ userIds: users.slice(i % 2) }));
    const before = await views(first, users);
    await first.close();
    expect(rowCounts()).toEqual({ deliveries: 0, fanout: 4 });

    const second = openSqliteInbox(suite.dir, opts, undefined, MERGE_NEVER);
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
    const first = openSqliteInbox(suite.dir, opts, undefined, MERGE_NEVER);
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) seqs.push(storedOf(await first.append(input({ userIds: ['alice', 'bob'] }))).seq);
    await first.close();
    // What a merge that got through alice's first two, then a read mark, leave behind.
    raw((db) => {
      db.prepare('INSERT INTO deliveries (user_id, seq, read) VALUES (?, ?, 0), (?, ?, 1)').run('alice', seqs[0], 'alice', seqs[1]);
    });

    const second = openSqliteInbox(suite.dir, opts, undefined, MERGE_NEVER);
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
    const inbox = openSqliteInbox(suite.dir, opts, undefined, MERGE_NEVER);
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
    const inbox = openSqliteInbox(suite.dir, opts, undefined, MERGE_NEVER);
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
    const inbox = openSqliteInbox(suite.dir, { maxPerUser: 1, ttlDays: 30 }, undefined, MERGE_NEVER);
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
    const inbox = openSqliteInbox(suite.dir, { maxPerUser: 2, ttlDays: 30 }, undefined, MERGE_NEVER);
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
    const again = openSqliteInbox(suite.dir, { maxPerUser: 2, ttlDays: 30 }, undefined, MERGE_NEVER);
    const kept = storedOf(await again.append(input({ userIds: ['dora'] })));
    await again.close();
    raw((db) => db.prepare('INSERT INTO deliveries (user_id, seq, read) VALUES (?, ?, 0)').run('dora', kept.seq));
    const third = openSqliteInbox(suite.dir, { maxPerUser: 2, ttlDays: 30 }, undefined, MERGE_NEVER);
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
