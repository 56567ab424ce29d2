import { describe, expect, it } from 'vitest';
import type { WireNotification } from '../../lib/contract';
import type { AppendInput, AppendResult, Inbox } from '../../lib/inbox/types';
import { actorOf } from '../../lib/inbox/groups';

/**
 * Notifications that change, for every engine (contract.ts runs it): collapse
 * and groups, update, retract, expiry, archive and mute, each seen through
 * what a client gets: list pages, unread counts, and catch-up (`since`), whose
 * `changes` must tell a client that slept through a change what it missed.
 */
export interface ChangesContext {
  inbox(): Inbox;
  storeOne(over?: Partial<AppendInput>): Promise<WireNotification>;
  /** An append of a valid input, as given back. */
  append(over?: Partial<AppendInput>): Promise<AppendResult>;
  /** The store opened again, as after a restart (the caller closes the first inbox). */
  reopen(): Promise<Inbox>;
}

export function changesContract(ctx: ChangesContext): void {
  /**
   * A push with a collapse key, stored and collapsed as the push service does it:
   * the embedded store collapses in the append's own commit, PostgreSQL after it.
   */
  async function collapsed(key: string, stored: AppendResult, userIds: string[]) {
    if (stored.status !== 'stored') throw new Error(`expected the append to be stored, got ${JSON.stringify(stored)}`);
    const n = stored.notification;
    if (stored.collapsed) return { n, result: { users: stored.collapsed } };
    const actor = actorOf(n.data);
    const result = await ctx.inbox().collapse({ seq: n.seq, id: n.id, userIds, collapseKey: key, ...(actor !== undefined ? { actor } : {}) });
    return { n, result };
  }
  async function collapsing(key: string, over: Partial<AppendInput> = {}) {
    return collapsed(key, await ctx.append({ collapseKey: key, ...over }), over.userIds ?? ['alice']);
  }
  const ids = async (userId: string, view?: 'unread' | 'all' | 'archived') =>
    (await ctx.inbox().list(userId, { limit: 50, ...(view ? { view } : {}) })).items.map((i) => i.id);

  describe('collapse', () => {
    it('merges pushes with one key into one unread item with its group, newest on top', async () => {
      const first = await collapsing('post-1', { data: { actor: 'Bob' } });
      expect(first.result.users).toEqual([{ userId: 'alice', group: { actors: ['Bob'], count: 1, pushes: 1 }, replaces: [] }]);
      const second = await collapsing('post-1', { data: { actor: 'Alice' } });
      expect(second.result.users[0]?.replaces).toEqual([first.n.id]);
      const third = await collapsing('post-1', { data: { actor: 'Bob' } });
      expect(third.result.users[0]?.group).toEqual({ actors: ['Bob', 'Alice'], count: 2, pushes: 3 });
      const page = await ctx.inbox().list('alice', { limit: 10 });
      expect(page.items.map((i) => i.id)).toEqual([third.n.id]);
      expect(page.items[0]).toMatchObject({ collapseKey: 'post-1', group: { actors: ['Bob', 'Alice'], count: 2, pushes: 3 } });
      expect((await ctx.inbox().summary('alice')).unread).toBe(1);
    });

    it('starts a new group after the head was read, and never touches another user', async () => {
      const a = await collapsing('post-2', { userIds: ['alice', 'bob'], data: { actor: 'Carol' } });
      await ctx.inbox().markRead('alice', [a.n.id]);
      const b = await collapsing('post-2', { userIds: ['alice', 'bob'], data: { actor: 'Dan' } });
      const byUser = new Map(b.result.users.map((u) => [u.userId, u]));
      expect(byUser.get('alice')).toMatchObject({ replaces: [], group: { count: 1 } });
      expect(byUser.get('bob')).toMatchObject({ replaces: [a.n.id], group: { count: 2 } });
      expect(await ids('alice')).toEqual([b.n.id, a.n.id]);
      expect(await ids('bob')).toEqual([b.n.id]);
      // A key crafted to match someone else's never reaches their items.
      const mallory = await collapsing('post-2', { userIds: ['mallory'], data: { actor: 'Eve' } });
      expect(mallory.result.users).toEqual([{ userId: 'mallory', group: { actors: ['Eve'], count: 1, pushes: 1 }, replaces: [] }]);
      expect(await ids('bob')).toEqual([b.n.id]);
    });

    it('collapses two pushes stored together (one group commit) into one item', async () => {
      const [a, b] = await Promise.all([ctx.append({ collapseKey: 'post-4', data: { actor: 'Bob' } }), ctx.append({ collapseKey: 'post-4', data: { actor: 'Carol' } })]);
      const first = await collapsed('post-4', a, ['alice']);
      const second = await collapsed('post-4', b, ['alice']);
      expect(second.result.users[0]).toMatchObject({ replaces: [first.n.id], group: { actors: ['Carol', 'Bob'], count: 2 } });
      expect(await ids('alice')).toEqual([second.n.id]);
      expect((await ctx.inbox().summary('alice')).unread).toBe(1);
      // What was collapsed away stays away after a restart.
      await ctx.inbox().close();
      const again = await ctx.reopen();
      expect((await again.list('alice', { limit: 10 })).items.map((i) => i.id)).toEqual([second.n.id]);
    });

    it('takes a head whether or not it is merged yet, leaving the user\u2019s other items alone, also across a restart', async () => {
      const p1 = await ctx.storeOne({ userIds: ['alice'] });
      const c1 = await collapsing('post-5', { userIds: ['alice', 'bob'] });
      const p2 = await ctx.storeOne({ userIds: ['alice'] });
      const c2 = await collapsing('post-5', { userIds: ['alice', 'bob'] });
      expect(c2.result.users.map((u) => u.replaces)).toEqual([[c1.n.id], [c1.n.id]]);
      expect(await ids('alice')).toEqual([c2.n.id, p2.id, p1.id]);
      expect(await ids('bob')).toEqual([c2.n.id]);
      expect((await ctx.inbox().since('alice', 0, 100)).items.map((i) => i.id)).toEqual([p1.id, p2.id, c2.n.id]);
      // A read mark puts alice's rows in the inbox proper; bob's head is still where pushes first go.
      await ctx.inbox().markRead('alice', [p1.id]);
      const c3 = await collapsing('post-5', { userIds: ['alice', 'bob'] });
      expect(c3.result.users.map((u) => [u.userId, u.replaces, u.group.pushes])).toEqual([
        ['alice', [c2.n.id], 3],
        ['bob', [c2.n.id], 3],
      ]);
      expect(await ids('alice')).toEqual([c3.n.id, p2.id, p1.id]);
      expect(await ctx.inbox().summary('alice')).toMatchObject({ unread: 2 });
      expect(await ctx.inbox().summary('bob')).toMatchObject({ unread: 1 });
      await ctx.inbox().close();
      const again = await ctx.reopen();
      expect((await again.list('alice', { limit: 10 })).items.map((i) => i.id)).toEqual([c3.n.id, p2.id, p1.id]);
      expect((await again.list('bob', { limit: 10 })).items.map((i) => i.id)).toEqual([c3.n.id]);
      expect(await again.summary('alice')).toMatchObject({ unread: 2 });
      expect(await again.summary('bob')).toMatchObject({ unread: 1 });
    });

    it('tells a client that slept through a collapse to drop the old item', async () => {
      const first = await collapsing('post-3');
      const second = await collapsing('post-3');
      const since = await ctx.inbox().since('alice', first.n.seq, 100);
      expect(since.items.map((i) => i.id)).toEqual([second.n.id]);
      expect(since.changes).toEqual([{ kind: 'remove', seq: expect.any(Number), ids: [first.n.id], reason: 'collapsed', replay: true }]);
      expect(since.changes[0]?.seq).toBeGreaterThan(first.n.seq);
    });
  });

  describe('update', () => {
    it('changes the content for every holder, keeps read state, and replays the change', async () => {
      const n = await ctx.storeOne({ userIds: ['alice', 'bob'], entityType: 'export', data: { text: 'Export 40 %' } });
      await ctx.inbox().markRead('bob', [n.id]);
      const result = await ctx.inbox().update(n.id, { data: { text: 'Export ready' } });
      expect(result).toMatchObject({ notification: { id: n.id, entityType: 'export', data: { text: 'Export ready' } } });
      expect(result?.userIds.sort()).toEqual(['alice', 'bob']);
      const bobs = (await ctx.inbox().list('bob', { limit: 5 })).items[0];
      expect(bobs).toMatchObject({ id: n.id, read: true, data: { text: 'Export ready' } });
      const since = await ctx.inbox().since('alice', n.seq, 100);
      expect(since.items).toEqual([]);
      expect(since.changes).toEqual([{ kind: 'update', seq: result?.seq, id: n.id, entityType: 'export', data: { text: 'Export ready' }, replay: true }]);
      expect(await ctx.inbox().update('no-such-id', { data: 1 })).toBeNull();
      // Content alone moves no one's count.
      expect(result?.recounted).toEqual([]);
    });

    it('recounts the holders who mute the old type or the new one when the type changes, and only them', async () => {
      const n = await ctx.storeOne({ userIds: ['alice', 'bob', 'carol'], entityType: 'comment' });
      await ctx.storeOne({ userIds: ['alice', 'bob', 'carol'], entityType: 'comment' });
      await ctx.inbox().setPreferences('alice', { mutedTypes: ['marketing'] });
      await ctx.inbox().setPreferences('bob', { mutedTypes: ['comment'] });
      expect((await ctx.inbox().summary('alice')).unread).toBe(2);
      expect((await ctx.inbox().summary('bob')).unread).toBe(0);
      const result = await ctx.inbox().update(n.id, { entityType: 'marketing' });
      // Alice mutes the new type, Bob the old one; Carol mutes nothing, and her count stays at 2.
      expect(result?.recounted.sort((a, b) => a.userId.localeCompare(b.userId))).toEqual([
        { userId: 'alice', unread: 1 },
        { userId: 'bob', unread: 1 },
      ]);
      expect((await ctx.inbox().summary('alice')).unread).toBe(1);
      expect((await ctx.inbox().summary('bob')).unread).toBe(1);
      expect((await ctx.inbox().summary('carol')).unread).toBe(2);
      expect((await ctx.inbox().update(n.id, { entityType: 'marketing', data: 2 }))?.recounted).toEqual([]);
    });
  });

  describe('retract and expiry', () => {
    it('removes from every inbox, corrects unread counts, and replays the removal', async () => {
      const keep = await ctx.storeOne({ userIds: ['alice', 'bob'] });
      const n = await ctx.storeOne({ userIds: ['alice', 'bob'] });
      const removed = await ctx.inbox().retract(n.id);
      expect(removed?.users.sort((a, b) => a.userId.localeCompare(b.userId))).toEqual([
        { userId: 'alice', unread: 1 },
        { userId: 'bob', unread: 1 },
      ]);
      expect(await ids('alice')).toEqual([keep.id]);
      expect(await ctx.inbox().summary('bob')).toMatchObject({ unread: 1 });
      const since = await ctx.inbox().since('alice', n.seq, 100);
      expect(since.changes).toEqual([{ kind: 'remove', seq: removed?.seq, ids: [n.id], reason: 'retracted', replay: true }]);
      // Again: no one holds it now.
      expect((await ctx.inbox().retract(n.id))?.users).toEqual([]);
      expect(await ctx.inbox().retract('no-such-id')).toBeNull();
    });

    it('keeps a removal across a restart, merged or not', async () => {
      // The newest goes: after a restart the fan-out log is read again, and anything above the
      // user's last merged row counts as pending, so a removal left in the log would come back.
      const a = await ctx.storeOne({ userIds: ['alice'] });
      const b = await ctx.storeOne({ userIds: ['alice', 'bob'] });
      await ctx.inbox().retract(b.id, 'alice');
      await ctx.inbox().update(a.id, { data: 'new' });
      await ctx.inbox().close();
      const again = await ctx.reopen();
      expect((await again.list('alice', { limit: 10 })).items.map((i) => [i.id, i.data])).toEqual([[a.id, 'new']]);
      expect((await again.list('bob', { limit: 10 })).items.map((i) => i.id)).toEqual([b.id]);
      expect(await again.summary('alice')).toMatchObject({ unread: 1 });
    });

    it('retracts one recipient only when asked', async () => {
      const n = await ctx.storeOne({ userIds: ['alice', 'bob'] });
      expect((await ctx.inbox().retract(n.id, 'bob'))?.users).toEqual([{ userId: 'bob', unread: 0 }]);
      expect(await ids('alice')).toEqual([n.id]);
      expect(await ids('bob')).toEqual([]);
      expect((await ctx.inbox().retract(n.id, 'carol'))?.users).toEqual([]);
    });

    it('expires what is due, once', async () => {
      const now = Date.now();
      const soon = await ctx.storeOne({ expiresAt: now + 1_000 });
      const later = await ctx.storeOne({ expiresAt: now + 60_000 });
      expect(soon.expiresAt).toBe(new Date(now + 1_000).toISOString());
      expect(await ctx.inbox().expireDue(now, 10)).toEqual([]);
      const due = await ctx.inbox().expireDue(now + 1_000, 10);
      expect(due).toEqual([{ id: soon.id, seq: expect.any(Number), users: [{ userId: 'alice', unread: 1 }] }]);
      expect(await ctx.inbox().expireDue(now + 2_000, 10)).toEqual([]);
      expect(await ids('alice')).toEqual([later.id]);
      const since = await ctx.inbox().since('alice', later.seq, 100);
      expect(since.changes).toMatchObject([{ kind: 'remove', ids: [soon.id], reason: 'expired' }]);
    });
  });

  describe('archive', () => {
    it('moves items between views and out of the unread count', async () => {
      const a = await ctx.storeOne();
      const b = await ctx.storeOne();
      const state = await ctx.inbox().archive('alice', [a.id, 'not-mine'], true);
      expect(state).toEqual({ ids: [a.id], archived: true, unread: 1, headSeq: b.seq });
      expect(await ids('alice')).toEqual([b.id]);
      expect(await ids('alice', 'archived')).toEqual([a.id]);
      expect((await ctx.inbox().list('alice', { limit: 5, view: 'archived' })).items[0]?.archived).toBe(true);
      await ctx.inbox().markRead('alice', [b.id]);
      expect(await ids('alice', 'unread')).toEqual([]);
      expect((await ctx.inbox().archive('alice', [a.id], true)).ids).toEqual([]);
      expect((await ctx.inbox().archive('alice', [a.id], false)).ids).toEqual([a.id]);
      expect(await ids('alice', 'unread')).toEqual([a.id]);
      // Another user's archive changes nothing of alice's.
      expect((await ctx.inbox().archive('bob', [b.id], true)).ids).toEqual([]);
    });
  });

  describe('mute', () => {
    it('keeps muted types listed but out of the unread count', async () => {
      expect(await ctx.inbox().preferences('alice')).toEqual({ mutedTypes: [] });
      await ctx.storeOne({ entityType: 'marketing' });
      const like = await ctx.storeOne({ entityType: 'like' });
      expect(await ctx.inbox().setPreferences('alice', { mutedTypes: ['marketing'] })).toEqual({ mutedTypes: ['marketing'] });
      expect(await ctx.inbox().preferences('alice')).toEqual({ mutedTypes: ['marketing'] });
      expect(await ctx.inbox().summary('alice')).toEqual({ unread: 1, headSeq: like.seq });
      expect((await ids('alice')).length).toBe(2);
      expect((await ctx.inbox().markRead('alice', [like.id])).unread).toBe(0);
      expect(await ctx.inbox().preferences('bob')).toEqual({ mutedTypes: [] });
    });
  });
}
