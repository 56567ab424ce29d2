import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteInbox } from '../../lib/inbox/sqlite';
import { runInboxContract, storedOf } from './contract';
import { MERGE_EAGERLY, MERGE_NEVER, sqliteSuite, tempDir } from './sqlite-suite';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The SQLite inbox: the contract with three merge tunings, and what it keeps in its file. */

for (const [name, merge] of [
  ['sqlite', {}],
  ['sqlite, merging eagerly', MERGE_EAGERLY],
  ['sqlite, never merging on its own', MERGE_NEVER],
] as const) {
  runInboxContract(name, async (opts) => {
    const dir = tempDir();
    return {
      inbox: openSqliteInbox(dir, opts, undefined, merge),
      reopen: async () => openSqliteInbox(dir, opts, undefined, merge),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });
}

describe('SQLite inbox', () => {
  const suite = sqliteSuite();
  const { opts, input, raw } = suite;

  it('creates its data directory and database file', async () => {
    const nested = path.join(suite.dir, 'a', 'b');
    const inbox = openSqliteInbox(nested, opts);
    await inbox.close();
    expect(existsSync(path.join(nested, 'herald.db'))).toBe(true);
  });

  it('runs in WAL mode', async () => {
    const inbox = openSqliteInbox(suite.dir, opts);
    storedOf(await inbox.append(input()));
    const db = new Database(path.join(suite.dir, 'herald.db'), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
      await inbox.close();
    }
  });

  it('commits an append that was queued when close() was called', async () => {
    const first = openSqliteInbox(suite.dir, opts);
    const pending = first.append(input({ id: 'queued' }));
    await first.close();
    expect((await pending).status).toBe('stored');

    const second = openSqliteInbox(suite.dir, opts);
    try {
      expect((await second.since('alice', 0, 10)).items.map((i) => i.id)).toEqual(['queued']);
    } finally {
      await second.close();
    }
  });

  it('remembers what retention removed across reopening, so a stale client still gets a reset', async () => {
    const first = openSqliteInbox(suite.dir, { maxPerUser: 2, ttlDays: 30 });
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) seqs.push(storedOf(await first.append(input())).seq);
    await first.sweep(Date.UTC(2025, 0, 2));
    await first.close();

    const second = openSqliteInbox(suite.dir, { maxPerUser: 2, ttlDays: 30 });
    try {
      expect((await second.since('alice', seqs[0] ?? 0, 10)).reset).toBe(true);
      expect((await second.since('alice', seqs[1] ?? 0, 10)).reset).toBe(false);
    } finally {
      await second.close();
    }
  });

  it('enforces a lower cap on the first sweep after reopening, for users stored before', async () => {
    const first = openSqliteInbox(suite.dir, { maxPerUser: 100, ttlDays: 30 });
    for (let i = 0; i < 5; i++) await first.append(input());
    await first.close();

    const second = openSqliteInbox(suite.dir, { maxPerUser: 3, ttlDays: 30 });
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
    const inbox = openSqliteInbox(suite.dir, { maxPerUser: 1, ttlDays: 30 });
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
      // A row from before schema 4 has no recipients list: its status names those with a receipt.
      expect((await inbox.status('old-shared', { limit: 10 }))?.recipients).toEqual([]);
      await inbox.markSeen('bob', ['old-shared'], Date.UTC(2025, 0, 3));
      expect((await inbox.status('old-shared', { limit: 10 }))?.recipients.map((r) => r.userId)).toEqual(['bob']);
      expect((await inbox.status(added.id, { limit: 10 }))?.recipients.map((r) => r.userId)).toEqual(['carol', 'dora']);
      raw((db) => {
        expect(db.pragma('user_version', { simple: true })).toBe(5);
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
    const first = openSqliteInbox(suite.dir, { maxPerUser: 100, ttlDays: 1 });
    const old = storedOf(await first.append(input({ userIds: ['alice', 'bob'], createdAt: Date.UTC(2025, 0, 1) })));
    await first.sweep(Date.UTC(2025, 0, 1, 12));
    await first.close();
    // What a stop after the watermark and before the deletions leaves behind.
    raw((db) => db.prepare("INSERT INTO meta (key, value) VALUES ('ttl_pruned_through', ?)").run(old.seq));

    const second = openSqliteInbox(suite.dir, { maxPerUser: 100, ttlDays: 1 });
    try {
      expect(await second.sweep(Date.UTC(2025, 0, 5))).toMatchObject({ deliveriesDeleted: 2, notificationsDeleted: 1 });
      expect((await second.list('bob', { limit: 10 })).items).toEqual([]);
    } finally {
      await second.close();
    }
  });
  it('keeps count of who holds a collapsed head: the cap deletes one another user still held, the age limit one nobody holds', async () => {
    const inbox = openSqliteInbox(suite.dir, { maxPerUser: 1, ttlDays: 1 }, undefined, MERGE_NEVER);
    const rows = () =>
      suite.raw((db) =>
        db.prepare('SELECT n.id, n.holders, f.recipients FROM notifications n LEFT JOIN fanout f ON f.seq = n.seq ORDER BY n.seq').all(),
      );
    try {
      // Each head is collapsed while still pending: Alice lets go of it in the push's own commit.
      await inbox.append(suite.input({ id: 'shared', userIds: ['alice', 'bob'], collapseKey: 'post-1' }));
      await inbox.append(suite.input({ id: 'next', collapseKey: 'post-1' }));
      await inbox.append(suite.input({ id: 'alone', collapseKey: 'post-2' }));
      await inbox.append(suite.input({ id: 'latest', collapseKey: 'post-2' }));
      await inbox.append(suite.input({ id: 'bobs', userIds: ['bob'] }));
      expect(rows()).toEqual([
        // Bob still holds it: one holder left.
        { id: 'shared', holders: 1, recipients: '["bob"]' },
        { id: 'next', holders: 1, recipients: '["alice"]' },
        // No one holds it: its log row is empty, and its count is left as it was.
        { id: 'alone', holders: 1, recipients: '[]' },
        { id: 'latest', holders: 1, recipients: '["alice"]' },
        { id: 'bobs', holders: 1, recipients: '["bob"]' },
      ]);
      // The cap of one per user takes Bob's older delivery, and with it the notification he was the last to hold.
      await inbox.sweep(Date.UTC(2025, 0, 1, 1));
      expect((rows() as Array<{ id: string }>).map((r) => r.id)).toEqual(['alone', 'latest', 'bobs']);
      expect((await inbox.list('alice', { limit: 10 })).items.map((i) => i.id)).toEqual(['latest']);
      // Past the age limit, the one nobody held goes with the rest.
      await inbox.sweep(Date.UTC(2025, 0, 1) + 3 * DAY_MS);
      expect(rows()).toEqual([]);
    } finally {
      await inbox.close();
    }
  });
});
