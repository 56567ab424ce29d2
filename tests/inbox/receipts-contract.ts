import { describe, expect, it } from 'vitest';
import type { WireNotification } from '../../lib/contract';
import { WEBHOOK_EVENT_TYPES, type WebhookBatch } from '../../lib/contract';
import type { AppendInput, Inbox, InboxOptions } from '../../lib/inbox/types';

/**
 * The receipts part of the inbox contract (contract.ts runs it for every engine):
 * delivered, seen and read times per (notification, recipient), idempotent, and
 * never changed by another user's ids or seqs; the status of a notification, by
 * page of recipients.
 */
export interface ReceiptsContext {
  inbox(): Inbox;
  storeOne(over?: Partial<AppendInput>, inbox?: Inbox): Promise<WireNotification>;
  /** Another empty inbox with these options, closed after the test. */
  open(opts: InboxOptions): Promise<Inbox>;
}

const WITH_WEBHOOKS: InboxOptions = { maxPerUser: 10_000, ttlDays: 30, webhookEvents: [...WEBHOOK_EVENT_TYPES] };
const LEASE = { leaseMs: 30_000, owner: 'node-a', max: 10 };

/** Every event in the batches claimed at `now`, settled done. */
async function drain(inbox: Inbox, now: number): Promise<WebhookBatch['data']['events']> {
  const batches = await inbox.outbox.claim({ ...LEASE, now });
  for (const b of batches) await inbox.outbox.settle(b.id, LEASE.owner, { kind: 'done' });
  return batches.flatMap((b) => (JSON.parse(b.body) as WebhookBatch).data.events);
}

const AT = Date.UTC(2025, 5, 1, 12);
const iso = (ms: number) => new Date(ms).toISOString();

export function receiptsContract(ctx: ReceiptsContext): void {
  describe('receipts', () => {
    const recipientsOf = async (id: string) => (await ctx.inbox().status(id, { limit: 100 }))?.recipients;

    it('lists every recipient of a notification, by user id, with no receipts yet', async () => {
      const n = await ctx.storeOne({ userIds: ['carol', 'alice', 'bob'] });
      const status = await ctx.inbox().status(n.id, { limit: 100 });
      expect(status?.notification).toEqual({ id: n.id, seq: n.seq, entityType: n.entityType, data: n.data, createdAt: n.createdAt });
      expect(status?.recipients).toEqual(
        ['alice', 'bob', 'carol'].map((userId) => ({ userId, deliveredAt: null, seenAt: null, readAt: null })),
      );
      expect(status?.nextCursor).toBeNull();
      expect(await ctx.inbox().status('no-such-id', { limit: 100 })).toBeNull();
    });

    it('pages through more recipients than one page holds, without overlap', async () => {
      const userIds = Array.from({ length: 250 }, (_, i) => `u${String(i).padStart(3, '0')}`);
      const n = await ctx.storeOne({ userIds });
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 5; page++) {
        const status = await ctx.inbox().status(n.id, { after, limit: 100 });
        seen.push(...(status?.recipients.map((r) => r.userId) ?? []));
        if (!status?.nextCursor) break;
        after = status.nextCursor;
      }
      expect(seen).toEqual(userIds);
    });

    it('marks delivered everything up to a cumulative ack, once, for that user only', async () => {
      const a = await ctx.storeOne({ userIds: ['alice', 'bob'] });
      const b = await ctx.storeOne({ userIds: ['alice', 'bob'] });
      const c = await ctx.storeOne({ userIds: ['alice'] });
      expect(await ctx.inbox().markReceived('alice', b.seq, AT)).toEqual({ changed: [a.id, b.id] });
      // A repeat, or an older ack, changes nothing.
      expect(await ctx.inbox().markReceived('alice', b.seq, AT + 5)).toEqual({ changed: [] });
      expect(await ctx.inbox().markReceived('alice', a.seq, AT + 5)).toEqual({ changed: [] });
      expect((await recipientsOf(a.id))?.map((r) => [r.userId, r.deliveredAt])).toEqual([
        ['alice', iso(AT)],
        ['bob', null],
      ]);
      expect((await recipientsOf(c.id))?.[0]?.deliveredAt).toBeNull();
      expect(await ctx.inbox().markReceived('alice', c.seq, AT + 10)).toEqual({ changed: [c.id] });
      expect((await recipientsOf(c.id))?.[0]?.deliveredAt).toBe(iso(AT + 10));
    });

    it('refuses an ack above the user\u2019s head and changes nothing', async () => {
      const a = await ctx.storeOne({ userIds: ['alice'] });
      const other = await ctx.storeOne({ userIds: ['bob'] });
      expect(await ctx.inbox().markReceived('alice', other.seq, AT)).toEqual({ changed: [], beyondHead: true });
      expect(await ctx.inbox().markReceived('alice', Number.MAX_SAFE_INTEGER, AT)).toEqual({ changed: [], beyondHead: true });
      expect(await ctx.inbox().markReceived('mallory', 1, AT)).toEqual({ changed: [], beyondHead: true });
      expect((await recipientsOf(a.id))?.[0]?.deliveredAt).toBeNull();
      expect((await recipientsOf(other.id))?.[0]?.deliveredAt).toBeNull();
    });

    it('marks seen (and delivered, when no ack came first) once, ignoring other users\u2019 ids', async () => {
      const mine = await ctx.storeOne({ userIds: ['alice'] });
      const bobs = await ctx.storeOne({ userIds: ['bob'] });
      expect(await ctx.inbox().markSeen('alice', [mine.id, bobs.id, 'no-such-id'], AT)).toEqual({ changed: [mine.id] });
      expect(await ctx.inbox().markSeen('alice', [mine.id], AT + 5)).toEqual({ changed: [] });
      expect(await recipientsOf(mine.id)).toEqual([{ userId: 'alice', deliveredAt: iso(AT), seenAt: iso(AT), readAt: null }]);
      expect(await recipientsOf(bobs.id)).toEqual([{ userId: 'bob', deliveredAt: null, seenAt: null, readAt: null }]);
    });

    it('answers one user\u2019s receipts by seq, never another user\u2019s', async () => {
      const a = await ctx.storeOne({ userIds: ['alice', 'bob'] });
      const b = await ctx.storeOne({ userIds: ['alice'] });
      const quiet = await ctx.storeOne({ userIds: ['alice'] });
      await ctx.inbox().markReceived('alice', b.seq, AT);
      await ctx.inbox().markSeen('alice', [b.id], AT + 1000);
      await ctx.inbox().markSeen('bob', [a.id], AT + 2000);
      const mine = await ctx.inbox().receiptsOf('alice', [a.seq, b.seq, quiet.seq]);
      expect(mine.get(a.seq)).toEqual({ deliveredAt: iso(AT), seenAt: null, readAt: null });
      expect(mine.get(b.seq)).toEqual({ deliveredAt: iso(AT), seenAt: iso(AT + 1000), readAt: null });
      expect(mine.get(quiet.seq)?.deliveredAt ?? null).toBeNull();
      expect((await ctx.inbox().receiptsOf('bob', [a.seq, b.seq])).get(b.seq)).toBeUndefined();
      expect((await ctx.inbox().receiptsOf('bob', [a.seq])).get(a.seq)).toEqual({ deliveredAt: iso(AT + 2000), seenAt: iso(AT + 2000), readAt: null });
      expect((await ctx.inbox().receiptsOf('alice', [])).size).toBe(0);
    });

    it('keeps an earlier delivered time when the notification is seen later', async () => {
      const n = await ctx.storeOne({ userIds: ['alice'] });
      await ctx.inbox().markReceived('alice', n.seq, AT);
      await ctx.inbox().markSeen('alice', [n.id], AT + 1000);
      expect(await recipientsOf(n.id)).toEqual([{ userId: 'alice', deliveredAt: iso(AT), seenAt: iso(AT + 1000), readAt: null }]);
    });

    it('records the first read time, by id and by read-all, per user', async () => {
      const a = await ctx.storeOne({ userIds: ['alice', 'bob'] });
      const b = await ctx.storeOne({ userIds: ['alice', 'bob'] });
      await ctx.inbox().markRead('alice', [a.id]);
      const first = (await recipientsOf(a.id))?.[0]?.readAt;
      expect(first).toEqual(expect.any(String));
      await ctx.inbox().markUnread('alice', [a.id]);
      await ctx.inbox().markAllRead('alice');
      const after = await recipientsOf(a.id);
      expect(after?.[0]?.readAt).toBe(first);
      expect(after?.[1]).toEqual({ userId: 'bob', deliveredAt: null, seenAt: null, readAt: null });
      expect((await recipientsOf(b.id))?.map((r) => r.readAt === null)).toEqual([false, true]);
    });
  });

  it('answers no status for a notification retention deleted', async () => {
    const inbox = await ctx.open({ maxPerUser: 1, ttlDays: 30 });
    const old = await ctx.storeOne({ userIds: ['alice'] }, inbox);
    await inbox.markSeen('alice', [old.id], AT);
    await ctx.storeOne({ userIds: ['alice'] }, inbox);
    await inbox.sweep(AT);
    expect(await inbox.status(old.id, { limit: 10 })).toBeNull();
  });

  describe('webhook outbox', () => {
    it('writes nothing to the outbox when no event type is enabled', async () => {
      const n = await ctx.storeOne({ userIds: ['alice'] });
      await ctx.inbox().markSeen('alice', [n.id], AT);
      expect(await ctx.inbox().outbox.stats()).toEqual({ events: 0, pending: 0, failed: 0 });
    });

    it('writes one event per state reached, and none for a repeat', async () => {
      const inbox = await ctx.open(WITH_WEBHOOKS);
      const n = await ctx.storeOne({ userIds: ['alice', 'bob'] }, inbox);
      await inbox.markReceived('alice', n.seq, AT);
      await inbox.markSeen('alice', [n.id], AT + 1);
      await inbox.markSeen('bob', [n.id], AT + 2);
      await inbox.markRead('alice', [n.id]);
      await inbox.markReceived('alice', n.seq, AT + 3);
      await inbox.markSeen('alice', [n.id], AT + 4);
      expect(await inbox.outbox.stats()).toEqual({ events: 5, pending: 0, failed: 0 });
      const events = await drain(inbox, AT + 10);
      expect(events.map((e) => `${e.type} ${e.userId}`).sort()).toEqual([
        'notification.delivered alice',
        'notification.delivered bob',
        'notification.read alice',
        'notification.seen alice',
        'notification.seen bob',
      ]);
      expect(events.find((e) => e.type === 'notification.seen' && e.userId === 'bob')).toEqual({
        type: 'notification.seen',
        id: n.id,
        userId: 'bob',
        timestamp: iso(AT + 2),
      });
      expect(await inbox.outbox.stats()).toEqual({ events: 0, pending: 0, failed: 0 });
    });

    it('batches at most 500 events, leases each batch once, and keeps its id across retries', async () => {
      const inbox = await ctx.open(WITH_WEBHOOKS);
      const userIds = Array.from({ length: 600 }, (_, i) => `u${i}`);
      const n = await ctx.storeOne({ userIds }, inbox);
      for (const u of userIds.slice(0, 501)) await inbox.markSeen(u, [n.id], AT);
      // Seen also sets delivered: 1002 events, three batches.
      const first = await inbox.outbox.claim({ ...LEASE, now: AT, max: 2 });
      expect(first.map((b) => b.events)).toEqual([500, 500]);
      // Leased: not claimed again, even by another owner, until the lease runs out.
      const second = await inbox.outbox.claim({ ...LEASE, owner: 'node-b', now: AT + 1 });
      expect(second.map((b) => b.events)).toEqual([2]);
      const [a, b] = first;
      if (!a || !b) throw new Error('expected two batches');
      await inbox.outbox.settle(a.id, LEASE.owner, { kind: 'retry', nextAt: AT + 100, error: 'HTTP 500' });
      await inbox.outbox.settle(b.id, LEASE.owner, { kind: 'failed', error: 'HTTP 410' });
      expect(await inbox.outbox.stats()).toMatchObject({ events: 0, failed: 1 });
      expect(await inbox.outbox.claim({ ...LEASE, now: AT + 50 })).toEqual([]);
      const again = await inbox.outbox.claim({ ...LEASE, now: AT + 100 });
      expect(again).toEqual([{ id: a.id, body: a.body, events: 500, attempts: 1 }]);
      expect(await inbox.outbox.retryFailed(AT + 200)).toBe(1);
      expect((await inbox.outbox.claim({ ...LEASE, now: AT + 200 })).map((x) => x.id)).toEqual([b.id]);
      // A lease that ran out (its node died) is taken over.
      const [lost] = second;
      expect((await inbox.outbox.claim({ ...LEASE, owner: 'node-c', now: AT + 1 + LEASE.leaseMs })).map((x) => x.id)).toContain(lost?.id);
    });

    it('escalates, once, each recipient who has not reached the state by the time it is due', async () => {
      const inbox = await ctx.open(WITH_WEBHOOKS);
      const createdAt = AT;
      const n = await ctx.storeOne({ userIds: ['reader', 'seer', 'absent'], createdAt, escalate: { afterMs: 10_000, unless: 'read' } }, inbox);
      const seenOnly = await ctx.storeOne({ userIds: ['seer'], createdAt, escalate: { afterMs: 10_000, unless: 'seen' } }, inbox);
      await inbox.markRead('reader', [n.id]);
      await inbox.markSeen('seer', [n.id, seenOnly.id], AT + 1);
      await drain(inbox, AT + 2);
      expect(await inbox.outbox.escalateDue(AT + 9_999, 100)).toBe(0);
      expect(await inbox.outbox.escalateDue(AT + 10_000, 100)).toBe(4);
      expect(await inbox.outbox.escalateDue(AT + 20_000, 100)).toBe(0);
      const events = await drain(inbox, AT + 20_000);
      expect(events.sort((x, y) => x.userId.localeCompare(y.userId))).toEqual([
        { type: 'notification.escalated', id: n.id, userId: 'absent', unless: 'read', deliveredAt: null, seenAt: null, timestamp: iso(AT + 10_000) },
        { type: 'notification.escalated', id: n.id, userId: 'seer', unless: 'read', deliveredAt: iso(AT + 1), seenAt: iso(AT + 1), timestamp: iso(AT + 10_000) },
      ]);
    });
  });
}
