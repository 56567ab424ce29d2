import { describe, expect, it } from 'vitest';
import type { WireNotification } from '../../lib/contract';
import type { AppendInput, Inbox } from '../../lib/inbox/types';

/**
 * The receipts part of the inbox contract (contract.ts runs it for every engine):
 * delivered, seen and read times per (notification, recipient), idempotent, and
 * never changed by another user's ids or seqs; the status of a notification, by
 * page of recipients.
 */
export interface ReceiptsContext {
  inbox(): Inbox;
  storeOne(over?: Partial<AppendInput>): Promise<WireNotification>;
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
}
