import { describe, expect, it } from 'vitest';
import type { Ack, NotificationStatus, ReceiptAck } from '../../lib/contract';
import { push, request, TEST_PUSH_KEY } from '../support/server';
import { waitForId, type ConnectedClient } from '../support/socket';
import { serverSuite } from '../support/suite';

/**
 * Receipts over the socket against the real server: `notifications:received`
 * and `notifications:seen` set the sender's own receipts once, and forged or
 * malformed ones (another user's ids, seqs beyond the head, 10,000 ids, wrong
 * types) are refused or match nothing: no other user's receipts change. The
 * status route shows the result, with the push key, and is a 404 for unknown ids.
 */

const suite = serverSuite();

let counter = 0;
const freshId = (label: string) => `${label}-${Date.now()}-${counter++}`;

async function pushTo(userIds: string[], id: string): Promise<void> {
  const res = await push(suite.server.url, { id, userIds, data: { text: id } });
  expect(res.status).toBe(202);
}

async function statusOf(id: string, query = ''): Promise<NotificationStatus> {
  const res = await request(suite.server.url, `/api/notifications/${id}${query}`, { headers: { authorization: `Bearer ${TEST_PUSH_KEY}` } });
  expect(res.status).toBe(200);
  return res.body as NotificationStatus;
}

function emit(client: ConnectedClient, event: string, payload: unknown): Promise<Ack<ReceiptAck>> {
  const timed = client.socket.timeout(5_000) as unknown as { emitWithAck(event: string, ...args: unknown[]): Promise<Ack<ReceiptAck>> };
  return timed.emitWithAck(event, payload);
}

const receiptsOf = (status: NotificationStatus, userId: string) => {
  const r = status.recipients.find((x) => x.userId === userId);
  return r && { delivered: r.deliveredAt !== null, seen: r.seenAt !== null, read: r.readAt !== null };
};

describe('receipts over the socket', () => {
  it('records delivered, seen and read for the sender only, once each', async () => {
    const aliceId = freshId('alice');
    const alice = await suite.connect(aliceId);
    const bob = freshId('bob');
    const id = freshId('n');
    await pushTo([aliceId, bob], id);
    await waitForId(alice, id);
    const seq = alice.received.find((n) => n.id === id)?.seq ?? 0;

    expect(await emit(alice, 'notifications:received', { upTo: seq })).toEqual({ ok: true, changed: 1 });
    expect(await emit(alice, 'notifications:received', { upTo: seq })).toEqual({ ok: true, changed: 0 });
    expect(await emit(alice, 'notifications:seen', { ids: [id] })).toEqual({ ok: true, changed: 1 });
    expect(await emit(alice, 'notifications:seen', { ids: [id, id] })).toEqual({ ok: true, changed: 0 });
    expect((await emit(alice, 'notifications:read', { ids: [id] })).ok).toBe(true);

    const status = await statusOf(id);
    expect(status.notification.id).toBe(id);
    expect(receiptsOf(status, aliceId)).toEqual({ delivered: true, seen: true, read: true });
    expect(receiptsOf(status, bob)).toEqual({ delivered: false, seen: false, read: false });
  });

  it('refuses forged and malformed receipts, and changes no other user\u2019s', async () => {
    const malloryId = freshId('mallory');
    const mallory = await suite.connect(malloryId);
    const victim = freshId('victim');
    const own = freshId('own');
    const theirs = freshId('theirs');
    await pushTo([malloryId], own);
    await waitForId(mallory, own);
    await pushTo([victim], theirs);
    const ownSeq = mallory.received.find((n) => n.id === own)?.seq ?? 0;
    const theirSeq = (await statusOf(theirs)).notification.seq;
    expect(theirSeq).toBeGreaterThan(ownSeq);

    // Another user's id: matches nothing.
    expect(await emit(mallory, 'notifications:seen', { ids: [theirs] })).toEqual({ ok: true, changed: 0 });
    // A seq beyond the sender's head (another user's, or any higher): refused.
    for (const upTo of [theirSeq, ownSeq + 1, Number.MAX_SAFE_INTEGER]) {
      expect(await emit(mallory, 'notifications:received', { upTo })).toMatchObject({ ok: false, error: 'validation_failed' });
    }
    // Wrong types and shapes: refused before the inbox is asked.
    const refusals: unknown[] = [
      { ids: Array.from({ length: 201 }, (_, i) => `x${i}`) },
      { ids: [] },
      { ids: 'not-an-array' },
      { ids: [42] },
      { ids: [theirs], extra: true },
      { ids: ['bad id with spaces'] },
    ];
    for (const payload of refusals) {
      expect(await emit(mallory, 'notifications:seen', payload)).toMatchObject({ ok: false, error: 'validation_failed' });
    }
    for (const payload of [{ upTo: -1 }, { upTo: 1.5 }, { upTo: '9' }, { upTo: null }, {}, [theirSeq], { upTo: 2 ** 60 }]) {
      expect(await emit(mallory, 'notifications:received', payload)).toMatchObject({ ok: false, error: 'validation_failed' });
    }

    expect(receiptsOf(await statusOf(theirs), victim)).toEqual({ delivered: false, seen: false, read: false });
    expect(receiptsOf(await statusOf(own), malloryId)).toEqual({ delivered: false, seen: false, read: false });
    // The socket is still usable after every refusal.
    expect(await emit(mallory, 'notifications:received', { upTo: ownSeq })).toEqual({ ok: true, changed: 1 });
  });

  it('cuts off a socket that sends 10,000 ids in one event, and changes nothing', async () => {
    const victim = freshId('victim');
    const theirs = freshId('theirs');
    await pushTo([victim], theirs);
    const mallory = await suite.connect(freshId('mallory'));
    const ids = [theirs, ...Array.from({ length: 9_999 }, (_, i) => `x${i}`)];
    // Far past the 32 KiB frame limit: the server closes the socket before anything parses it.
    const answer = await emit(mallory, 'notifications:seen', { ids }).catch((err: Error) => err.message);
    expect(answer).toBe('socket has been disconnected');
    expect(receiptsOf(await statusOf(theirs), victim)).toEqual({ delivered: false, seen: false, read: false });
  });
});

describe('GET /api/notifications/:id', () => {
  it('pages past 100 recipients with a cursor', async () => {
    const id = freshId('many');
    const userIds = Array.from({ length: 150 }, (_, i) => `r${String(i).padStart(3, '0')}`);
    await pushTo(userIds, id);
    const first = await statusOf(id);
    expect(first.recipients).toHaveLength(100);
    expect(first.nextCursor).toBe('r099');
    const second = await statusOf(id, `?after=${first.nextCursor ?? ''}`);
    expect(second.recipients.map((r) => r.userId)).toEqual(userIds.slice(100));
    expect(second.nextCursor).toBeNull();
    expect((await statusOf(id, '?limit=10')).recipients).toHaveLength(10);
  });

  it('answers 404 for an unknown id, 401 without the key, 400 for a bad query', async () => {
    const base = suite.server.url;
    const auth = { authorization: `Bearer ${TEST_PUSH_KEY}` };
    const missing = await request(base, '/api/notifications/no-such-id', { headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    expect((await request(base, '/api/notifications/no-such-id')).status).toBe(401);
    for (const query of ['?limit=0', '?limit=101', '?limit=abc', '?after=']) {
      const res = await request(base, `/api/notifications/some-id${query}`, { headers: auth });
      expect(res.status, query).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'validation_failed' } });
    }
    expect((await request(base, '/api/notifications/bad%20id', { headers: auth })).status).toBe(400);
  });
});

