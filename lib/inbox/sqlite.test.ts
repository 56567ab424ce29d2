import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInboxContract, storedOf } from './contract';
import { openSqliteInbox } from './sqlite';
import type { AppendInput, InboxOptions } from './types';

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'herald-inbox-'));

runInboxContract('sqlite', async (opts) => {
  const dir = tempDir();
  return {
    inbox: openSqliteInbox(dir, opts),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

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
});
