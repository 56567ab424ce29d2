import { describe, expect, it } from 'vitest';
import { IdempotencyConflictError, InboxUnavailableError } from '../../lib/errors';
import { openSqliteInbox, type SqliteInbox } from '../../lib/inbox/sqlite';
import type { JsonValue } from '../../lib/contract';
import { storedOf } from './contract';
import { settledWithin, sqliteSuite } from './sqlite-suite';

/** The SQLite inbox's writer thread: group commit, write order, failures. */

describe('SQLite inbox: writer thread', () => {
  const suite = sqliteSuite();
  const { opts, input } = suite;

  const errorOf = (outcome: { value: unknown } | { error: unknown }): unknown => ('error' in outcome ? outcome.error : undefined);
  /** The worker, reached past `private`: only these tests kill it. */
  const writerOf = (inbox: SqliteInbox) => inbox['queue']['writer'];

  it('commits concurrent appends in few transactions, in call order, up to 512 per transaction', async () => {
    const inbox = openSqliteInbox(suite.dir, opts);
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

  it('commits receipts queued together in one transaction, each answered as it would be alone, in call order', async () => {
    const inbox = openSqliteInbox(suite.dir, opts);
    try {
      const a = storedOf(await inbox.append(input({ id: 'r-a', userIds: ['alice', 'bob'] })));
      const b = storedOf(await inbox.append(input({ id: 'r-b', userIds: ['alice'] })));
      const before = inbox.stats().batches;
      // Queued in one turn behind an append: they go as one request once the append is answered.
      const [, ...answers] = await Promise.all([
        inbox.append(input({ id: 'r-c', userIds: ['carol'] })),
        inbox.markReceived('alice', a.seq),
        inbox.markSeen('alice', [a.id, b.id]),
        inbox.markReceived('alice', a.seq),
        inbox.markReceived('bob', b.seq),
        inbox.markSeen('bob', [a.id, 'no-such-id']),
        inbox.markReceived('alice', b.seq),
      ]);
      expect(answers).toEqual([
        { changed: ['r-a'] },
        { changed: ['r-a', 'r-b'] },
        { changed: [] },
        // b is not bob's: his newest is a.
        { changed: [], beyondHead: true },
        { changed: ['r-a'] },
        // Seen already said b was delivered.
        { changed: [] },
      ]);
      expect(inbox.stats()).toMatchObject({ batches: before + 1, receiptBatches: 1, receipts: 6 });
      const recipients = async (id: string) => (await inbox.status(id, { limit: 10 }))?.recipients.map((r) => [r.userId, r.deliveredAt !== null, r.seenAt !== null]);
      expect(await recipients('r-a')).toEqual([
        ['alice', true, true],
        ['bob', true, true],
      ]);
      expect(await recipients('r-b')).toEqual([['alice', true, true]]);
    } finally {
      await inbox.close();
    }
  });

  it('builds the stored notification on the main thread, exactly as it is read back', async () => {
    const inbox = openSqliteInbox(suite.dir, opts);
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
    const inbox = openSqliteInbox(suite.dir, opts);
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
    const inbox = openSqliteInbox(suite.dir, opts);
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
    const inbox = openSqliteInbox(suite.dir, opts);
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
    const first = openSqliteInbox(suite.dir, opts);
    const pending = Array.from({ length: 300 }, (_, i) => first.append(input({ id: `q-${i}` })));
    const readAll = first.markAllRead('alice');
    const last = first.append(input({ id: 'last' }));
    await first.close();
    const results = await Promise.all([...pending, last]);
    expect(results.every((r) => r.status === 'stored')).toBe(true);
    expect((await readAll).unread).toBe(0);
    await expect(first.append(input())).rejects.toBeInstanceOf(InboxUnavailableError);

    const second = openSqliteInbox(suite.dir, opts);
    try {
      const items = (await second.since('alice', 0, 1000)).items;
      expect(items.map((i) => i.id)).toEqual([...Array.from({ length: 300 }, (_, i) => `q-${i}`), 'last']);
      expect(items.filter((i) => !i.read).map((i) => i.id)).toEqual(['last']);
    } finally {
      await second.close();
    }
  });

  it('lets pushes in between the steps of a long sweep', async () => {
    const inbox = openSqliteInbox(suite.dir, { maxPerUser: 10, ttlDays: 30 });
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
    const inbox = openSqliteInbox(suite.dir, opts);
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
    const inbox = openSqliteInbox(suite.dir, opts);
    const pending = inbox.append(input());
    writerOf(inbox).emit('error', new Error('boom'));
    const error = errorOf(await settledWithin(2000, pending));
    expect(error).toBeInstanceOf(InboxUnavailableError);
    expect((error as Error).message).toContain('boom');
    expect(errorOf(await settledWithin(2000, inbox.append(input())))).toBeInstanceOf(InboxUnavailableError);
    expect('value' in (await settledWithin(2000, inbox.close()))).toBe(true);
  });
});
