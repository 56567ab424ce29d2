import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdempotencyConflictError, InboxUnavailableError } from '../../lib/errors';
import type { JsonValue, WireNotification } from '../../lib/contract';
import { IDEMPOTENCY_WINDOW_MS, type AppendInput, type AppendResult, type Inbox, type InboxOptions } from '../../lib/inbox/types';
import { changesContract } from './changes-contract';
import { receiptsContract } from './receipts-contract';

/**
 * The behaviour every `Inbox` implementation must have, written only against the
 * interface so that both engines run the same suite (sqlite.test.ts three times,
 * with different merge tunings; postgres.test.ts once):
 *
 *   runInboxContract('sqlite', async (opts) => { ... return { inbox, cleanup } });
 *
 * `open` must return an empty inbox of its own, built with the retention
 * options it is given (the retention tests depend on them). `cleanup` runs after
 * each test, after the test may already have closed the inbox and those `reopen`
 * gave.
 *
 * One file past ~350 lines: the contract is one suite that every engine runs
 * whole, and a test kept elsewhere would hold for one engine only.
 */
export interface OpenedInbox {
  inbox: Inbox;
  /** Another inbox on the same store, as a restart opens it (the test closes the first). */
  reopen(): Promise<Inbox>;
  cleanup(): Promise<void>;
}

/** Retention used unless a test asks for its own: large enough never to interfere. */
export const CONTRACT_DEFAULT_OPTIONS: InboxOptions = { maxPerUser: 10_000, ttlDays: 30 };

const DAY_MS = 24 * 60 * 60 * 1000;
/** A fixed clock: tests pass `createdAt` and `sweep(now)` explicitly, so nothing depends on the wall clock. */
const T0 = Date.UTC(2025, 0, 1);

export function runInboxContract(name: string, open: (opts: InboxOptions) => Promise<OpenedInbox>): void {
  describe(`Inbox contract: ${name}`, () => {
    let opened: OpenedInbox[] = [];
    let reopened: Inbox[] = [];
    let counter = 0;

    /** Opens an inbox that is cleaned up after the test. */
    async function openInbox(opts: InboxOptions = CONTRACT_DEFAULT_OPTIONS): Promise<Inbox> {
      const o = await open(opts);
      opened.push(o);
      return o.inbox;
    }

    /** Opens the store of the test's first inbox again, as after a restart; closed after the test. */
    async function reopen(): Promise<Inbox> {
      const first = opened[0];
      if (!first) throw new Error('no inbox to reopen');
      const again = await first.reopen();
      reopened.push(again);
      return again;
    }

    /** A valid append with a fresh id; `createdAt` rises with each call. */
    function input(over: Partial<AppendInput> = {}): AppendInput {
      counter++;
      return {
        id: `n-${counter}`,
        userIds: ['alice'],
        entityType: 'like',
        data: { actor: 'Bob', n: counter },
        createdAt: T0 + counter,
        ...over,
      };
    }

    async function storeOne(inbox: Inbox, over: Partial<AppendInput> = {}): Promise<WireNotification> {
      return storedOf(await inbox.append(input(over)));
    }

    let inbox: Inbox;
    beforeEach(async () => {
      counter = 0;
      inbox = await openInbox();
    });
    afterEach(async () => {
      for (const again of reopened) await again.close().catch(() => undefined);
      reopened = [];
      const all = opened;
      opened = [];
      for (const o of all) {
        await o.inbox.close().catch(() => undefined);
        await o.cleanup();
      }
    });

    describe('append', () => {
      it('stores a notification and returns it as it will be delivered', async () => {
        const createdAt = Date.UTC(2025, 5, 1, 12, 0, 0);
        const data: JsonValue = { actor: { name: 'Bob' }, list: [1, 'two', null, true], nested: { deep: { x: 1.5 } } };
        const n = await storeOne(inbox, { id: 'abc-1', entityType: 'comment', data, createdAt });
        expect(n).toEqual({
          id: 'abc-1',
          seq: expect.any(Number),
          entityType: 'comment',
          data,
          createdAt: '2025-06-01T12:00:00.000Z',
          read: false,
        });
        expect(Number.isSafeInteger(n.seq)).toBe(true);
        expect(n.seq).toBeGreaterThan(0);
        const { items } = await inbox.since('alice', 0, 10);
        expect(items).toEqual([n]);
      });

      it('keeps every kind of JSON data intact, including a bare string, null and HTML', async () => {
        const values: JsonValue[] = ['<img src=x onerror=alert(1)>', null, 0, false, [], {}, 'ünïcødé ✓ 😀'];
        for (const data of values) await storeOne(inbox, { data });
        const { items } = await inbox.since('alice', 0, 100);
        expect(items.map((i) => i.data)).toEqual(values);
      });

      it('gives each later append a higher seq', async () => {
        const a = await storeOne(inbox);
        const b = await storeOne(inbox);
        const c = await storeOne(inbox, { userIds: ['bob'] });
        const d = await storeOne(inbox);
        expect(b.seq).toBeGreaterThan(a.seq);
        expect(c.seq).toBeGreaterThan(b.seq);
        expect(d.seq).toBeGreaterThan(c.seq);
      });

      it('gives every recipient of one push the same seq and payload', async () => {
        const n = await storeOne(inbox, { userIds: ['alice', 'bob', 'carol'], data: { text: 'hello' } });
        for (const user of ['alice', 'bob', 'carol']) {
          const { items } = await inbox.since(user, 0, 10);
          expect(items).toEqual([n]);
        }
        expect((await inbox.since('dave', 0, 10)).items).toEqual([]);
      });

      it("keeps each user's seqs strictly increasing across pushes to different groups", async () => {
        await storeOne(inbox, { userIds: ['alice', 'bob'] });
        await storeOne(inbox, { userIds: ['bob'] });
        await storeOne(inbox, { userIds: ['alice'] });
        await storeOne(inbox, { userIds: ['carol', 'alice', 'bob'] });
        for (const user of ['alice', 'bob', 'carol']) {
          const seqs = (await inbox.since(user, 0, 100)).items.map((i) => i.seq);
          expect(seqs.length).toBeGreaterThan(0);
          for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? Infinity);
        }
        expect((await inbox.since('alice', 0, 100)).items).toHaveLength(3);
        expect((await inbox.since('bob', 0, 100)).items).toHaveLength(3);
        expect((await inbox.since('carol', 0, 100)).items).toHaveLength(1);
      });

      it('delivers once to a user named twice in one push, without failing the pushes beside it', async () => {
        const [twice, beside] = await Promise.all([
          inbox.append(input({ id: 'twice', userIds: ['alice', 'alice', 'bob'], idempotency: { key: 'k', bodyHash: 'h' } })),
          inbox.append(input({ id: 'beside' })),
        ]);
        const n = storedOf(twice);
        expect(storedOf(beside).id).toBe('beside');
        expect((await inbox.since('alice', 0, 10)).items.map((i) => i.id)).toEqual(['twice', 'beside']);
        expect((await inbox.since('bob', 0, 10)).items).toEqual([n]);
        expect(await inbox.summary('alice')).toEqual({ unread: 2, headSeq: expect.any(Number) });
        // Recipients are counted once each.
        const dup = await inbox.append(input({ userIds: ['alice', 'alice', 'bob'], idempotency: { key: 'k', bodyHash: 'h' } }));
        expect(dup).toMatchObject({ status: 'duplicate', id: 'twice', recipients: 2 });
      });

      it('stores many concurrent appends, each with its own seq, in the order they were called', async () => {
        const count = 1000;
        const results = await Promise.all(
          Array.from({ length: count }, (_, i) =>
            inbox.append(input({ id: `burst-${i}`, userIds: i % 2 === 0 ? ['alice'] : ['alice', 'bob'] })),
          ),
        );
        const seqs = results.map((r) => storedOf(r).seq);
        expect(new Set(seqs).size).toBe(count);
        for (let i = 1; i < count; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? Infinity);

        const alice = await inbox.since('alice', 0, count);
        expect(alice.reset).toBe(false);
        expect(alice.items.map((i) => i.id)).toEqual(Array.from({ length: count }, (_, i) => `burst-${i}`));
        expect(alice.items.map((i) => i.seq)).toEqual(seqs);
        const bob = await inbox.since('bob', 0, count);
        expect(bob.items.map((i) => i.id)).toEqual(
          Array.from({ length: count / 2 }, (_, i) => `burst-${2 * i + 1}`),
        );
        expect(await inbox.summary('alice')).toEqual({ unread: count, headSeq: seqs[count - 1] });
      });

      it('rejects only the conflicting append of a concurrent burst; the others are stored', async () => {
        await storeOne(inbox, { id: 'taken' });
        const outcomes = await Promise.allSettled([
          inbox.append(input({ id: 'b-1' })),
          inbox.append(input({ id: 'taken' })),
          inbox.append(input({ id: 'b-2' })),
        ]);
        expect(outcomes[0]?.status).toBe('fulfilled');
        expect(outcomes[1]?.status).toBe('rejected');
        expect(outcomes[1]?.status === 'rejected' && outcomes[1].reason).toBeInstanceOf(IdempotencyConflictError);
        expect(outcomes[2]?.status).toBe('fulfilled');
        const ids = (await inbox.since('alice', 0, 10)).items.map((i) => i.id);
        expect(ids).toEqual(['taken', 'b-1', 'b-2']);
      });
    });

    describe('since', () => {
      it('returns what came after a seq, oldest first, with read flags and the head seq', async () => {
        const a = await storeOne(inbox);
        const b = await storeOne(inbox);
        const c = await storeOne(inbox);
        await storeOne(inbox, { userIds: ['bob'] });
        await inbox.markRead('alice', [b.id]);

        const after = await inbox.since('alice', a.seq, 10);
        expect(after.reset).toBe(false);
        expect(after.items).toEqual([
          { ...b, read: true },
          { ...c, read: false },
        ]);
        expect(after.headSeq).toBe(c.seq);
      });

      it('returns nothing, without a reset, for a client that is up to date', async () => {
        const a = await storeOne(inbox);
        expect(await inbox.since('alice', a.seq, 10)).toEqual({ items: [], changes: [], reset: false, headSeq: a.seq });
      });

      it('reports head seq 0 for a user with nothing stored', async () => {
        await storeOne(inbox, { userIds: ['bob'] });
        expect(await inbox.since('nobody', 0, 10)).toEqual({ items: [], changes: [], reset: false, headSeq: 0 });
      });

      it('replays exactly `limit` items, but asks for a reset when there are more', async () => {
        const all: WireNotification[] = [];
        for (let i = 0; i < 5; i++) all.push(await storeOne(inbox));
        const head = all[4]?.seq;

        const exact = await inbox.since('alice', 0, 5);
        expect(exact.reset).toBe(false);
        expect(exact.items.map((i) => i.id)).toEqual(all.map((n) => n.id));

        const over = await inbox.since('alice', 0, 4);
        expect(over.reset).toBe(true);
        expect(over.headSeq).toBe(head);

        const fromSecond = await inbox.since('alice', all[0]?.seq ?? 0, 4);
        expect(fromSecond.reset).toBe(false);
        expect(fromSecond.items).toHaveLength(4);
      });
    });

    describe('list', () => {
      it('pages back through history newest first, with no overlap and a null cursor at the end', async () => {
        const stored: WireNotification[] = [];
        for (let i = 0; i < 7; i++) stored.push(await storeOne(inbox));
        await storeOne(inbox, { userIds: ['bob'] });
        const newestFirst = [...stored].reverse().map((n) => n.id);

        const p1 = await inbox.list('alice', { limit: 3 });
        expect(p1.items.map((i) => i.id)).toEqual(newestFirst.slice(0, 3));
        expect(p1.nextCursor).not.toBeNull();
        const p2 = await inbox.list('alice', { before: p1.nextCursor ?? undefined, limit: 3 });
        expect(p2.items.map((i) => i.id)).toEqual(newestFirst.slice(3, 6));
        expect(p2.nextCursor).not.toBeNull();
        const p3 = await inbox.list('alice', { before: p2.nextCursor ?? undefined, limit: 3 });
        expect(p3.items.map((i) => i.id)).toEqual(newestFirst.slice(6));
        expect(p3.nextCursor).toBeNull();
      });

      it('ends with a null cursor when the last page is exactly full', async () => {
        for (let i = 0; i < 4; i++) await storeOne(inbox);
        const p1 = await inbox.list('alice', { limit: 2 });
        const p2 = await inbox.list('alice', { before: p1.nextCursor ?? undefined, limit: 2 });
        expect(p2.items).toHaveLength(2);
        expect(p2.nextCursor).toBeNull();
        expect(new Set([...p1.items, ...p2.items].map((i) => i.id)).size).toBe(4);
      });

      it('does not shift pages when new notifications arrive between requests', async () => {
        for (let i = 0; i < 4; i++) await storeOne(inbox, { id: `old-${i}` });
        const p1 = await inbox.list('alice', { limit: 2 });
        await storeOne(inbox, { id: 'newer' });
        const p2 = await inbox.list('alice', { before: p1.nextCursor ?? undefined, limit: 2 });
        expect(p1.items.map((i) => i.id)).toEqual(['old-3', 'old-2']);
        expect(p2.items.map((i) => i.id)).toEqual(['old-1', 'old-0']);
      });

      it('carries read flags and lists only the asking user', async () => {
        const a = await storeOne(inbox);
        await storeOne(inbox, { userIds: ['bob'] });
        const c = await storeOne(inbox);
        await inbox.markRead('alice', [a.id]);
        const page = await inbox.list('alice', { limit: 10 });
        expect(page).toEqual({ items: [c, { ...a, read: true }], nextCursor: null });
        expect(await inbox.list('nobody', { limit: 10 })).toEqual({ items: [], nextCursor: null });
      });
    });

    describe('read state', () => {
      it('summarizes unread count and head seq', async () => {
        expect(await inbox.summary('alice')).toEqual({ unread: 0, headSeq: 0 });
        await storeOne(inbox);
        const b = await storeOne(inbox, { userIds: ['alice', 'bob'] });
        await storeOne(inbox, { userIds: ['bob'] });
        expect(await inbox.summary('alice')).toEqual({ unread: 2, headSeq: b.seq });
      });

      it('marks read and returns only the ids that changed', async () => {
        const a = await storeOne(inbox);
        const b = await storeOne(inbox);
        const c = await storeOne(inbox);

        const first = await inbox.markRead('alice', [a.id, b.id]);
        expect([...first.readIds].sort()).toEqual([a.id, b.id].sort());
        expect(first.unread).toBe(1);
        expect(first.headSeq).toBe(c.seq);

        const again = await inbox.markRead('alice', [a.id, c.id]);
        expect(again.readIds).toEqual([c.id]);
        expect(again.unread).toBe(0);

        expect((await inbox.markRead('alice', [a.id])).readIds).toEqual([]);
      });

      it("ignores unknown ids and other users' notifications: one user cannot mark another's read", async () => {
        const mine = await storeOne(inbox, { userIds: ['alice'] });
        const theirs = await storeOne(inbox, { userIds: ['bob'] });

        const state = await inbox.markRead('alice', [theirs.id, 'no-such-id']);
        expect(state.readIds).toEqual([]);
        expect(state.unread).toBe(1);
        expect((await inbox.since('bob', 0, 10)).items).toEqual([theirs]);
        expect(await inbox.summary('bob')).toEqual({ unread: 1, headSeq: theirs.seq });

        // Bob cannot reach Alice's either, even by naming it alongside his own.
        const bobState = await inbox.markRead('bob', [mine.id, theirs.id]);
        expect(bobState.readIds).toEqual([theirs.id]);
        expect((await inbox.since('alice', 0, 10)).items).toEqual([mine]);
      });

      it("makes read notifications unread again, only the user's own, and says which changed", async () => {
        const a = await storeOne(inbox, { userIds: ['alice', 'bob'] });
        const b = await storeOne(inbox);
        await inbox.markAllRead('alice');
        await inbox.markRead('bob', [a.id]);
        const state = await inbox.markUnread('alice', [a.id, 'no-such-id']);
        expect(state).toMatchObject({ unread: 1, headSeq: b.seq, readIds: [], unreadIds: [a.id] });
        // Already unread: nothing changes.
        expect((await inbox.markUnread('alice', [a.id])).unreadIds).toEqual([]);
        expect((await inbox.since('alice', 0, 10)).items.map((i) => [i.id, i.read])).toEqual([
          [a.id, false],
          [b.id, true],
        ]);
        // Bob's copy stays read, and Alice cannot reach it otherwise.
        expect((await inbox.since('bob', 0, 10)).items[0]?.read).toBe(true);
        expect((await inbox.markUnread('bob', [b.id])).unreadIds).toEqual([]);
        expect(await inbox.summary('bob')).toMatchObject({ unread: 0 });
      });

      it('takes a probe write when it can take writes', async () => {
        await expect(inbox.probeWrite()).resolves.toBeUndefined();
        await expect(inbox.probeWrite()).resolves.toBeUndefined();
      });

      it('keeps read state per user for a notification shared by several', async () => {
        const shared = await storeOne(inbox, { userIds: ['alice', 'bob'] });
        await inbox.markRead('alice', [shared.id]);
        expect((await inbox.since('alice', 0, 10)).items[0]?.read).toBe(true);
        expect((await inbox.since('bob', 0, 10)).items[0]?.read).toBe(false);
      });

      it("marks everything read for one user, and nobody else's", async () => {
        await storeOne(inbox, { userIds: ['alice', 'bob'] });
        const b = await storeOne(inbox);
        const state = await inbox.markAllRead('alice');
        expect(state).toMatchObject({ unread: 0, headSeq: b.seq, all: true });
        expect((await inbox.list('alice', { limit: 10 })).items.every((i) => i.read)).toBe(true);
        expect(await inbox.summary('bob')).toMatchObject({ unread: 1 });
        // Something new after read-all is unread again.
        const c = await storeOne(inbox);
        expect(await inbox.summary('alice')).toEqual({ unread: 1, headSeq: c.seq });
      });
    });

    describe('idempotency', () => {
      const key = (k: string, bodyHash = 'hash-1') => ({ idempotency: { key: k, bodyHash } });

      it('answers a repeated key and body with the first id, and stores nothing new', async () => {
        const first = await storeOne(inbox, { id: 'first', userIds: ['alice', 'bob'], ...key('k1') });
        const again = await inbox.append(input({ id: 'second', userIds: ['alice', 'bob'], ...key('k1') }));
        expect(again).toEqual({ status: 'duplicate', id: 'first', recipients: 2, response: null });
        expect((await inbox.since('alice', 0, 10)).items).toEqual([first]);
        expect((await inbox.since('bob', 0, 10)).items).toEqual([first]);
      });

      it('replays the recorded answer once it is saved', async () => {
        await storeOne(inbox, { id: 'first', ...key('k1') });
        const answer = { id: 'first', recipients: 1, online: 3 };
        await inbox.saveResponse('k1', answer);
        const again = await inbox.append(input({ ...key('k1') }));
        expect(again).toEqual({ status: 'duplicate', id: 'first', recipients: 1, response: answer });
      });

      it('refuses the same key with a different body', async () => {
        await storeOne(inbox, { id: 'first', ...key('k1', 'hash-a') });
        await expect(inbox.append(input({ ...key('k1', 'hash-b') }))).rejects.toBeInstanceOf(IdempotencyConflictError);
        expect((await inbox.since('alice', 0, 10)).items.map((i) => i.id)).toEqual(['first']);
      });

      it('refuses a notification id that is already stored, without a key', async () => {
        await storeOne(inbox, { id: 'same' });
        await expect(inbox.append(input({ id: 'same', userIds: ['bob'] }))).rejects.toBeInstanceOf(
          IdempotencyConflictError,
        );
        expect((await inbox.since('bob', 0, 10)).items).toEqual([]);
      });

      it('stores a key sent several times at once exactly once', async () => {
        const results = await Promise.all(
          [1, 2, 3].map(() => inbox.append(input({ id: 'same-id', ...key('same-id') }))),
        );
        expect(results.filter((r) => r.status === 'stored')).toHaveLength(1);
        for (const r of results) {
          expect(r.status === 'stored' ? r.notification.id : r.id).toBe('same-id');
        }
        expect((await inbox.since('alice', 0, 10)).items).toHaveLength(1);
      });

      it('still recognizes a key just inside 24 hours', async () => {
        await storeOne(inbox, { id: 'first', createdAt: T0, ...key('k1', 'hash-a') });
        const later = T0 + IDEMPOTENCY_WINDOW_MS - 60_000;
        await inbox.sweep(later);
        await expect(inbox.append(input({ createdAt: later, ...key('k1', 'hash-b') }))).rejects.toBeInstanceOf(
          IdempotencyConflictError,
        );
        const dup = await inbox.append(input({ createdAt: later, ...key('k1', 'hash-a') }));
        expect(dup).toMatchObject({ status: 'duplicate', id: 'first' });
      });

      it('forgets a key after 24 hours', async () => {
        await storeOne(inbox, { id: 'first', createdAt: T0, ...key('k1', 'hash-a') });
        const later = T0 + IDEMPOTENCY_WINDOW_MS + 60_000;
        const n = await storeOne(inbox, { id: 'second', createdAt: later, ...key('k1', 'hash-b') });
        expect(n.id).toBe('second');
        // And the new use of the key is the one remembered now.
        const dup = await inbox.append(input({ createdAt: later + 1, ...key('k1', 'hash-b') }));
        expect(dup).toMatchObject({ status: 'duplicate', id: 'second' });
      });

      it('lets the sweep drop keys older than 24 hours', async () => {
        await storeOne(inbox, { id: 'old', createdAt: T0, ...key('old-key') });
        await storeOne(inbox, { id: 'recent', createdAt: T0 + 2 * DAY_MS, ...key('recent-key') });
        const swept = await inbox.sweep(T0 + DAY_MS + 60_000);
        expect(swept.idempotencyDeleted).toBe(1);
        // The recent key is still remembered.
        const dup = await inbox.append(input({ createdAt: T0 + 2 * DAY_MS + 1, ...key('recent-key') }));
        expect(dup).toMatchObject({ status: 'duplicate', id: 'recent' });
      });
    });

    describe('retention', () => {
      it('keeps the newest maxPerUser per user', async () => {
        inbox = await openInbox({ maxPerUser: 3, ttlDays: 30 });
        const all: WireNotification[] = [];
        for (let i = 0; i < 5; i++) all.push(await storeOne(inbox, { userIds: i === 0 ? ['alice', 'bob'] : ['alice'] }));

        const swept = await inbox.sweep(T0 + 1000);
        expect(swept.deliveriesDeleted).toBe(2);

        const page = await inbox.list('alice', { limit: 10 });
        expect(page.items.map((i) => i.id)).toEqual([all[4], all[3], all[2]].map((n) => n?.id));
        expect(page.nextCursor).toBeNull();
        expect(await inbox.summary('alice')).toEqual({ unread: 3, headSeq: all[4]?.seq });
        // The cap is per user: Bob keeps the notification he shared with Alice.
        expect((await inbox.since('bob', 0, 10)).items.map((i) => i.id)).toEqual([all[0]?.id]);
      });

      it('deletes a notification once the cap has taken it from everyone who held it, not before', async () => {
        inbox = await openInbox({ maxPerUser: 1, ttlDays: 30 });
        const shared = await storeOne(inbox, { userIds: ['alice', 'bob'] });
        await storeOne(inbox, { userIds: ['alice'] });
        const first = await inbox.sweep(T0 + 1000);
        // Alice's copy went; Bob still holds it.
        expect(first).toMatchObject({ deliveriesDeleted: 1, notificationsDeleted: 0 });
        expect((await inbox.list('bob', { limit: 10 })).items.map((i) => i.id)).toEqual([shared.id]);

        await storeOne(inbox, { userIds: ['bob'] });
        const second = await inbox.sweep(T0 + 2000);
        expect(second).toMatchObject({ deliveriesDeleted: 1, notificationsDeleted: 1 });
        expect((await inbox.list('bob', { limit: 10 })).items.map((i) => i.id)).not.toContain(shared.id);
      });

      it('asks a client for a reset when its position is older than what the cap kept', async () => {
        inbox = await openInbox({ maxPerUser: 3, ttlDays: 30 });
        const all: WireNotification[] = [];
        for (let i = 0; i < 5; i++) all.push(await storeOne(inbox));
        await inbox.sweep(T0 + 1000);

        const behind = await inbox.since('alice', all[0]?.seq ?? 0, 100);
        expect(behind.reset).toBe(true);
        expect(behind.headSeq).toBe(all[4]?.seq);
        expect((await inbox.since('alice', 0, 100)).reset).toBe(true);
        // A client that saw everything the cap removed loses nothing: no reset.
        const caughtUp = await inbox.since('alice', all[1]?.seq ?? 0, 100);
        expect(caughtUp.reset).toBe(false);
        expect(caughtUp.items.map((i) => i.id)).toEqual([all[2], all[3], all[4]].map((n) => n?.id));
      });

      it('deletes notifications older than ttlDays', async () => {
        inbox = await openInbox({ maxPerUser: 100, ttlDays: 2 });
        const old = await storeOne(inbox, { createdAt: T0, userIds: ['alice', 'bob'] });
        const fresh = await storeOne(inbox, { createdAt: T0 + 3 * DAY_MS });

        // Nothing has expired yet.
        await inbox.sweep(T0 + 2 * DAY_MS - 60_000);
        expect((await inbox.since('alice', 0, 10)).items).toHaveLength(2);

        const swept = await inbox.sweep(T0 + 4 * DAY_MS);
        expect(swept.deliveriesDeleted).toBe(2);
        expect(swept.notificationsDeleted).toBe(1);
        expect((await inbox.list('alice', { limit: 10 })).items).toEqual([fresh]);
        expect((await inbox.list('bob', { limit: 10 })).items).toEqual([]);
        expect(await inbox.summary('alice')).toEqual({ unread: 1, headSeq: fresh.seq });

        expect((await inbox.since('alice', 0, 10)).reset).toBe(true);
        const fromOld = await inbox.since('alice', old.seq, 10);
        expect(fromOld).toEqual({ items: [fresh], changes: [], reset: false, headSeq: fresh.seq });
      });

      it('keeps working after a sweep: new appends get higher seqs and are listed', async () => {
        inbox = await openInbox({ maxPerUser: 2, ttlDays: 30 });
        const before: WireNotification[] = [];
        for (let i = 0; i < 4; i++) before.push(await storeOne(inbox));
        await inbox.sweep(T0 + 1000);
        const after = await storeOne(inbox);
        expect(after.seq).toBeGreaterThan(before[3]?.seq ?? Infinity);
        const since = await inbox.since('alice', before[3]?.seq ?? 0, 10);
        expect(since).toEqual({ items: [after], changes: [], reset: false, headSeq: after.seq });
      });
    });

    receiptsContract({ inbox: () => inbox, storeOne: (over, other) => storeOne(other ?? inbox, over), open: (opts) => openInbox(opts) });
    changesContract({ inbox: () => inbox, storeOne: (over) => storeOne(inbox, over), append: (over) => inbox.append(input(over)), reopen });

    describe('lifecycle', () => {
      it('answers ping while open', async () => {
        await expect(inbox.ping()).resolves.toBeUndefined();
      });

      it('rejects every call after close() with InboxUnavailableError', async () => {
        const n = await storeOne(inbox);
        await inbox.close();
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['append', () => inbox.append(input())],
          ['saveResponse', () => inbox.saveResponse('k', { id: n.id, recipients: 1, online: 0 })],
          ['since', () => inbox.since('alice', 0, 10)],
          ['list', () => inbox.list('alice', { limit: 10 })],
          ['markRead', () => inbox.markRead('alice', [n.id])],
          ['markAllRead', () => inbox.markAllRead('alice')],
          ['summary', () => inbox.summary('alice')],
          ['sweep', () => inbox.sweep(T0)],
          ['ping', () => inbox.ping()],
        ];
        for (const [method, call] of calls) {
          const error = await call().then(
            () => undefined,
            (err: unknown) => err,
          );
          expect(error, method).toBeInstanceOf(InboxUnavailableError);
        }
      });

      it('settles an append that was issued just before close()', async () => {
        const pending = inbox.append(input({ id: 'in-flight' }));
        await inbox.close();
        const outcome = await pending.then(
          (r) => r,
          (err: unknown) => err,
        );
        if (outcome instanceof Error) expect(outcome).toBeInstanceOf(InboxUnavailableError);
        else expect(outcome).toMatchObject({ status: 'stored', notification: { id: 'in-flight' } });
      });

      it('can be closed twice', async () => {
        await inbox.close();
        await expect(inbox.close()).resolves.toBeUndefined();
      });

      it('keeps notifications, read state and idempotency keys across a restart, and seqs keep rising', async () => {
        const a = await storeOne(inbox, { userIds: ['alice', 'bob'] });
        const b = await storeOne(inbox, { idempotency: { key: 'k1', bodyHash: 'h' } });
        await inbox.saveResponse('k1', { id: b.id, recipients: 1, online: 0 });
        await inbox.markRead('alice', [a.id]);
        await inbox.close();

        const second = await reopen();
        expect((await second.since('alice', 0, 10)).items).toEqual([{ ...a, read: true }, b]);
        expect((await second.since('bob', 0, 10)).items).toEqual([a]);
        expect(await second.summary('alice')).toEqual({ unread: 1, headSeq: b.seq });
        expect(await second.append(input({ idempotency: { key: 'k1', bodyHash: 'h' } }))).toEqual({
          status: 'duplicate',
          id: b.id,
          recipients: 1,
          response: { id: b.id, recipients: 1, online: 0 },
        });
        expect((await storeOne(second)).seq).toBeGreaterThan(b.seq);
      });
    });
  });
}

/** The stored notification of an append, failing the test on anything else. */
export function storedOf(result: AppendResult): WireNotification {
  if (result.status !== 'stored') throw new Error(`expected the append to be stored, got ${JSON.stringify(result)}`);
  return result.notification;
}
