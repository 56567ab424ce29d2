import { describe, expect, it } from 'vitest';
import type { Ack, ListPage, ReadState, WireNotification } from '../../lib/contract';
import { push } from '../support/server';
import { waitFor, waitForId, type ConnectedClient } from '../support/socket';
import { serverSuite } from '../support/suite';

/**
 * Read state across tabs and history paging over the socket: a change in one
 * tab reaches every tab of that user (and only that user); bad payloads get a
 * validation_failed ack and leave the socket usable.
 */

/** The promise: the other tab is updated within a second. */
const OTHER_TAB_WITHIN_MS = 1_000;
const ACK_TIMEOUT_MS = 5_000;

const suite = serverSuite();
const connect = (userId: string): Promise<ConnectedClient> => suite.connect(userId);

/** Pushes `count` notifications to `userId` one at a time; returns their ids, oldest first. */
async function pushMany(userId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await push(suite.server.url, { tokens: [userId], data: i });
    expect(res.status).toBe(202);
    ids.push(res.body.id as string);
  }
  return ids;
}

const list = (c: ConnectedClient, req: unknown) =>
  c.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:list', req as never) as Promise<Ack<ListPage>>;
const read = (c: ConnectedClient, req: unknown) =>
  c.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:read', req as never) as Promise<Ack<ReadState>>;
const readAll = (c: ConnectedClient) =>
  c.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:read-all') as Promise<Ack<ReadState>>;
/** Emits an event with arbitrary arguments (a misbehaving client) and waits for the ack. */
const raw = (c: ConnectedClient, event: string, ...args: unknown[]) =>
  (c.socket.timeout(ACK_TIMEOUT_MS) as any).emitWithAck(event, ...args) as Promise<Ack<object>>;

describe('read state across tabs', () => {
  it('tells the other tab the new unread count and read ids when one tab marks some read', async () => {
    const ids = await pushMany('rs-read', 4);
    const [tabA, tabB] = await Promise.all([connect('rs-read'), connect('rs-read')]);
    expect(tabB.synced[0]).toMatchObject({ unread: 4 });

    const seenByB = waitFor<ReadState>(tabB.socket, 'notifications:state', OTHER_TAB_WITHIN_MS);
    const seenByA = waitFor<ReadState>(tabA.socket, 'notifications:state', OTHER_TAB_WITHIN_MS);
    const ack = await read(tabA, { ids: [ids[0], ids[2]] });
    expect(ack).toEqual({ ok: true, unread: 2, headSeq: expect.any(Number), readIds: expect.arrayContaining([ids[0], ids[2]]) });

    const state = await seenByB;
    expect(state).toMatchObject({ unread: 2 });
    expect([...state.readIds].sort()).toEqual([ids[0], ids[2]].sort());
    expect(await seenByA).toEqual(state);

    // The inbox agrees: those two are read, the others not.
    const page = await list(tabB, { limit: 10 });
    expect(page.ok).toBe(true);
    const readFlags = Object.fromEntries((page as { items: WireNotification[] }).items.map((n) => [n.id, n.read]));
    expect(readFlags).toEqual({ [ids[0]!]: true, [ids[1]!]: false, [ids[2]!]: true, [ids[3]!]: false });
  });

  it('tells the other tab when one tab marks all read', async () => {
    await pushMany('rs-all', 3);
    const [tabA, tabB] = await Promise.all([connect('rs-all'), connect('rs-all')]);
    const seenByB = waitFor<ReadState>(tabB.socket, 'notifications:state', OTHER_TAB_WITHIN_MS);
    const ack = await readAll(tabA);
    expect(ack).toEqual({ ok: true, unread: 0, headSeq: expect.any(Number), readIds: [], all: true });
    expect(await seenByB).toEqual({ unread: 0, headSeq: (ack as ReadState).headSeq, readIds: [], all: true });

    // A tab opened later starts from the new state.
    const later = await connect('rs-all');
    expect(later.synced[0]).toMatchObject({ unread: 0 });
  });

  it('makes read notifications unread again and tells every tab, leaving other users alone', async () => {
    const ids = await pushMany('rs-unread', 3);
    const [theirs] = await pushMany('rs-unread-other', 1);
    const [tabA, tabB] = await Promise.all([connect('rs-unread'), connect('rs-unread')]);
    const readAllSeenByB = waitFor<ReadState>(tabB.socket, 'notifications:state', OTHER_TAB_WITHIN_MS);
    await readAll(tabA);
    expect(await readAllSeenByB).toMatchObject({ all: true });
    const seenByB = waitFor<ReadState>(tabB.socket, 'notifications:state', OTHER_TAB_WITHIN_MS);
    const ack = await raw(tabA, 'notifications:unread', { ids: [ids[1], theirs, 'no-such-id'] });
    expect(ack).toEqual({ ok: true, unread: 1, headSeq: expect.any(Number), readIds: [], unreadIds: [ids[1]] });
    expect(await seenByB).toEqual({ unread: 1, headSeq: (ack as unknown as ReadState).headSeq, readIds: [], unreadIds: [ids[1]] });
    // Another user's id changed nothing of theirs: still unread, as pushed.
    const other = await connect('rs-unread-other');
    expect(other.synced[0]).toMatchObject({ unread: 1 });
    for (const bad of [{ ids: [] }, { ids: 'x' }, { ids: Array.from({ length: 201 }, (_, i) => `n${i}`) }, {}]) {
      expect(await raw(tabA, 'notifications:unread', bad)).toMatchObject({ ok: false, error: 'validation_failed' });
    }
  });

  it("does not let a user mark another user's notifications read, nor tell them anything", async () => {
    const [theirs] = await pushMany('rs-victim', 1);
    const [victim, intruder] = await Promise.all([connect('rs-victim'), connect('rs-intruder')]);
    const victimEvents = victim.events.length;

    const ack = await read(intruder, { ids: [theirs] });
    expect(ack).toMatchObject({ ok: true, unread: 0, readIds: [] });
    await readAll(intruder);

    // The victim's own read proves the order: had the intruder changed anything, it would show here.
    const announced = waitFor(victim.socket, 'notifications:state');
    const own = await read(victim, { ids: [theirs] });
    expect(own).toMatchObject({ ok: true, unread: 0, readIds: [theirs] });
    await announced;
    expect(victim.events.slice(victimEvents).map((e) => e.event)).toEqual(['notifications:state']);
  });

  it('marks an already read notification without announcing a change', async () => {
    const [id] = await pushMany('rs-twice', 1);
    const [tabA, tabB] = await Promise.all([connect('rs-twice'), connect('rs-twice')]);
    const first = waitFor(tabB.socket, 'notifications:state');
    expect(await read(tabA, { ids: [id] })).toMatchObject({ ok: true, readIds: [id], unread: 0 });
    await first;
    const before = tabB.events.length;

    expect(await read(tabA, { ids: [id, id] })).toMatchObject({ ok: true, readIds: [], unread: 0 });
    // A later real change is the next thing tab B hears.
    const [next] = await pushMany('rs-twice', 1);
    await waitForId(tabB, next!);
    const second = waitFor(tabB.socket, 'notifications:state');
    expect(await read(tabA, { ids: [next] })).toMatchObject({ ok: true, readIds: [next] });
    await second;
    expect(tabB.events.slice(before).map((e) => e.event)).toEqual(['receive_message', 'notifications:state']);
  });
});

describe('paging history over the socket', () => {
  it('pages newest first with before cursors, with no overlap and no gap', async () => {
    const ids = await pushMany('rs-page', 25);
    const client = await connect('rs-page');
    const newestFirst = [...ids].reverse();

    const pages: ListPage[] = [];
    let before: number | undefined;
    for (let i = 0; i < 10; i++) {
      const res = await list(client, before === undefined ? { limit: 10 } : { before, limit: 10 });
      if (!res.ok) throw new Error(`list failed: ${res.error}`);
      pages.push({ items: res.items, nextCursor: res.nextCursor });
      if (res.nextCursor === null) break;
      before = res.nextCursor;
    }

    expect(pages.map((p) => p.items.length)).toEqual([10, 10, 5]);
    expect(pages.flatMap((p) => p.items.map((n) => n.id))).toEqual(newestFirst);
    for (const p of pages.slice(0, 2)) expect(p.nextCursor).toBe(p.items.at(-1)!.seq);
    expect(pages[2]!.nextCursor).toBeNull();
    const seqs = pages.flatMap((p) => p.items.map((n) => n.seq));
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeLessThan(seqs[i - 1]!);
  });

  it('uses the default page size without a limit and returns an empty page past the end', async () => {
    await pushMany('rs-default', 22);
    const client = await connect('rs-default');
    const first = await list(client, {});
    expect(first).toMatchObject({ ok: true });
    expect((first as ListPage).items).toHaveLength(20);
    const oldest = (await list(client, { before: (first as ListPage).nextCursor!, limit: 100 })) as ListPage;
    expect(oldest.items).toHaveLength(2);
    expect(await list(client, { before: oldest.items[1]!.seq })).toEqual({ ok: true, items: [], nextCursor: null });
  });

  it('pages only through its own user', async () => {
    await pushMany('rs-own-a', 2);
    await pushMany('rs-own-b', 3);
    const client = await connect('rs-own-a');
    const page = (await list(client, { limit: 100 })) as ListPage;
    expect(page.items.map((n) => n.data)).toEqual([1, 0]);
  });
});

describe('invalid payloads', () => {
  it.each([
    ['notifications:list', 'a limit of 0', [{ limit: 0 }]],
    ['notifications:list', 'a limit over 100', [{ limit: 101 }]],
    ['notifications:list', 'a fractional limit', [{ limit: 2.5 }]],
    ['notifications:list', 'a negative cursor', [{ before: -1 }]],
    ['notifications:list', 'a cursor that is a string', [{ before: '10' }]],
    ['notifications:list', 'an unknown field', [{ limit: 10, extra: true }]],
    ['notifications:list', 'a string payload', ['not an object']],
    ['notifications:list', 'a null payload', [null]],
    ['notifications:list', 'no payload at all', []],
    ['notifications:read', 'an empty id list', [{ ids: [] }]],
    ['notifications:read', 'ids that are not a list', [{ ids: 'abc' }]],
    ['notifications:read', 'an id with a space', [{ ids: ['has space'] }]],
    ['notifications:read', '501 ids', [{ ids: Array.from({ length: 501 }, (_, i) => `n${i}`) }]],
    ['notifications:read', 'no ids field', [{}]],
    ['notifications:read', 'no payload at all', []],
    ['notifications:read-all', 'a payload it does not take', [{ all: true }]],
  ])('answers %s with %s with a validation_failed ack and keeps the socket usable', async (event, _, args) => {
    const client = await connect('rs-invalid');
    expect(await raw(client, event, ...args)).toEqual({ ok: false, error: 'validation_failed', message: expect.any(String) });
    expect(client.socket.connected).toBe(true);
    expect(await list(client, { limit: 1 })).toMatchObject({ ok: true });
  });

  it('accepts read-all with an empty object as its payload, as with none', async () => {
    const client = await connect('rs-empty-payload');
    await pushMany('rs-empty-payload', 2);
    expect(await raw(client, 'notifications:read-all', {})).toMatchObject({ ok: true, unread: 0, all: true });
    expect(await raw(client, 'notifications:read-all')).toMatchObject({ ok: true, unread: 0, all: true });
  });

  it('survives invalid events sent without an ack', async () => {
    const client = await connect('rs-noack');
    client.socket.emit('notifications:read', { ids: 'nope' } as never, undefined as never);
    (client.socket as any).emit('notifications:list', 'garbage');
    (client.socket as any).emit('notifications:read-all', 42);
    const [id] = await pushMany('rs-noack', 1);
    await waitForId(client, id!);
    expect(await read(client, { ids: [id] })).toMatchObject({ ok: true, readIds: [id] });
  });
});
