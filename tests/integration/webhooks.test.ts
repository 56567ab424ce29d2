import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Ack, ReceiptAck, WebhookEvent } from '../../lib/contract';
import { devToken, push, request, startServer, type TestServer } from '../support/server';
import { connectClient, eventually, eventuallyAsync, waitForId, type ConnectedClient } from '../support/socket';
import { startReceiver, TEST_WEBHOOK_SECRET, type Receiver } from '../support/webhookReceiver';

/**
 * Signed webhooks end to end: the real server (dev auth, open push API) sends
 * its outbox to a real receiver that verifies every delivery with the
 * `standardwebhooks` package. HERALD_TEST_TIME_SCALE=0.01 runs webhook time a
 * hundred times faster: an `escalate.after` of 100 s fires after 1 s, and the
 * retries come after ~50 ms, ~3 s, ~18 s.
 */

const TIME_SCALE = '0.01';
let receiver: Receiver;
let server: TestServer;
const clients: ConnectedClient[] = [];
let counter = 0;
const fresh = (label: string) => `${label}-${process.pid}-${counter++}`;

function start(dataDir?: string, events?: string): Promise<TestServer> {
  return startServer({
    mode: 'test',
    ...(dataDir !== undefined ? { dataDir } : {}),
    env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: TEST_WEBHOOK_SECRET, HERALD_TEST_TIME_SCALE: TIME_SCALE, WEBHOOK_EVENTS: events },
  });
}

async function connect(base: string, userId: string): Promise<ConnectedClient> {
  const client = await connectClient(base, { token: await devToken(base, userId) });
  clients.push(client);
  return client;
}

function emit(client: ConnectedClient, event: string, payload: unknown): Promise<Ack<ReceiptAck>> {
  const timed = client.socket.timeout(5_000) as unknown as { emitWithAck(event: string, ...args: unknown[]): Promise<Ack<ReceiptAck>> };
  return timed.emitWithAck(event, payload);
}

const eventsFor = (id: string): WebhookEvent[] => receiver.events.filter((e) => e.id === id);
const kinds = (id: string) => eventsFor(id).map((e) => `${e.type} ${e.userId}`).sort();

/** Pushes `id` to an online user and sends delivered, seen and read for it. */
async function allReceipts(base: string, userId: string, id: string): Promise<void> {
  const client = await connect(base, userId);
  expect((await push(base, { id, userIds: [userId], data: { text: id } })).status).toBe(202);
  await waitForId(client, id);
  const seq = client.received.find((n) => n.id === id)?.seq ?? 0;
  expect(await emit(client, 'notifications:received', { upTo: seq })).toMatchObject({ ok: true });
  expect(await emit(client, 'notifications:seen', { ids: [id] })).toMatchObject({ ok: true });
  expect(await emit(client, 'notifications:read', { ids: [id] })).toMatchObject({ ok: true });
}

beforeAll(async () => {
  receiver = await startReceiver();
  server = await start();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  receiver.answer = 200;
  receiver.release();
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  await receiver?.close();
});

describe('signed webhooks', () => {
  it('sends delivered, seen and read receipts, each signed and verified, in batches', async () => {
    const user = fresh('alice');
    const id = fresh('n');
    await allReceipts(server.url, user, id);
    await eventually(() => eventsFor(id).length >= 3, 5_000);
    expect(kinds(id)).toEqual([`notification.delivered ${user}`, `notification.read ${user}`, `notification.seen ${user}`]);
    for (const e of eventsFor(id)) expect(Date.parse(e.timestamp)).toBeGreaterThan(0);
    expect(receiver.forged).toBe(0);
    const batch = JSON.parse(receiver.attempts.at(-1)?.body ?? '{}') as { type?: string; timestamp?: string };
    expect(batch.type).toBe('notification.events');
    expect(typeof batch.timestamp).toBe('string');
  });

  it('escalates a user who never connects, and not one who reads in time', async () => {
    const reader = fresh('reader');
    const absent = fresh('absent');
    const id = fresh('esc');
    const client = await connect(server.url, reader);
    // 100 s, scaled: due 1 s after the push.
    const res = await push(server.url, { id, userIds: [reader, absent], data: {}, escalate: { after: 100 } });
    expect(res.status).toBe(202);
    await waitForId(client, id);
    expect(await emit(client, 'notifications:read', { ids: [id] })).toMatchObject({ ok: true });
    await eventually(() => eventsFor(id).some((e) => e.type === 'notification.escalated'), 5_000);
    // Well past the due time, still exactly one escalation, for the absent user.
    await new Promise((r) => setTimeout(r, 1_000));
    const escalated = eventsFor(id).filter((e) => e.type === 'notification.escalated');
    expect(escalated).toEqual([
      { type: 'notification.escalated', id, userId: absent, unless: 'read', deliveredAt: null, seenAt: null, timestamp: expect.any(String) },
    ]);
  });

  it('refuses an escalate outside 10..604800 seconds or with an unknown state', async () => {
    for (const escalate of [{ after: 9 }, { after: 604_801 }, { after: 10.5 }, { after: 60, unless: 'clicked' }, { after: 60, extra: 1 }]) {
      const res = await push(server.url, { userIds: ['x'], data: {}, escalate });
      expect(res.status, JSON.stringify(escalate)).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'validation_failed' } });
    }
  });

  it('retries while the receiver fails, loses nothing, and repeats the same webhook-id and body', async () => {
    receiver.answer = 503;
    const ids = [fresh('down'), fresh('down')];
    for (const id of ids) await allReceipts(server.url, fresh('bob'), id);
    await eventually(() => receiver.attempts.filter((a) => a.status === 503).length >= 2, 5_000);
    receiver.answer = 200;
    await eventually(() => ids.every((id) => eventsFor(id).length >= 3), 15_000);
    // Every id that failed was sent again with the same body, and then accepted.
    const failed = receiver.attempts.filter((a) => a.status === 503);
    for (const f of failed) {
      const same = receiver.attempts.filter((a) => a.webhookId === f.webhookId);
      expect(same.every((a) => a.body === f.body)).toBe(true);
      await eventually(() => receiver.attempts.some((a) => a.webhookId === f.webhookId && a.status === 200), 15_000);
    }
  });

  it('answers pushes as fast while the receiver hangs', async () => {
    receiver.answer = 0;
    const user = fresh('erin');
    await allReceipts(server.url, user, fresh('hang'));
    // The sender is now waiting on a request the receiver never answers (10 s timeout).
    await eventually(() => receiver.held() > 0, 5_000);
    const started = performance.now();
    for (let i = 0; i < 50; i++) expect((await push(server.url, { userIds: [user], data: { i } })).status).toBe(202);
    // 50 sequential pushes; a push waiting on the receiver would take 10 s.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(receiver.held()).toBeGreaterThan(0);
  });

  it('stops sending after a 410 until POST /api/webhooks/retry, and counts the failed batch in /readyz', async () => {
    receiver.answer = 410;
    const first = fresh('gone');
    await allReceipts(server.url, fresh('carol'), first);
    await eventually(() => receiver.attempts.some((a) => a.status === 410), 5_000);
    const before = receiver.attempts.length;
    receiver.answer = 200;
    const second = fresh('gone');
    await allReceipts(server.url, fresh('carol'), second);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.attempts.length).toBe(before);
    const ready = await request(server.url, '/readyz');
    expect(ready.body).toMatchObject({ checks: { webhooks: { ok: true, failed: 1 } } });
    // The admin view shows it too (open on a test-mode server), at its next sample.
    let outbox: unknown;
    await eventuallyAsync(async () => {
      outbox = ((await request(server.url, '/api/admin/overview')).body as { webhooks: unknown }).webhooks;
      return (outbox as { failed?: number } | null)?.failed === 1;
    }, 5_000);
    expect(outbox).toEqual({ events: expect.any(Number), pending: expect.any(Number), failed: 1 });

    const retry = await request(server.url, '/api/webhooks/retry', { method: 'POST' });
    expect(retry).toMatchObject({ status: 200, body: { retried: 1 } });
    await eventually(() => eventsFor(first).length >= 3 && eventsFor(second).length >= 3, 5_000);
  });
});

describe('webhooks across a crash', () => {
  it('shuts down promptly while the receiver hangs, and sends the batch after the restart', async () => {
    const node = await start();
    try {
      receiver.answer = 0;
      const id = fresh('stop');
      await allReceipts(node.url, fresh('fay'), id);
      await eventually(() => receiver.held() > 0, 5_000);
      const started = performance.now();
      expect(await node.stop()).toBe(0);
      // The attempt's timeout is 10 s: the shutdown aborts it instead of waiting.
      expect(performance.now() - started).toBeLessThan(5_000);
      receiver.release();
      receiver.answer = 200;
      const again = await start(node.dataDir);
      try {
        await eventually(() => eventsFor(id).length >= 3, 10_000);
      } finally {
        await again.stop();
      }
    } finally {
      await node.kill();
      node.cleanup();
    }
  });

  it('sends after a restart what was pending when the server was killed (kill -9)', async () => {
    const crashing = await start();
    try {
      receiver.answer = 503;
      const id = fresh('crash');
      await allReceipts(crashing.url, fresh('dora'), id);
      await eventually(() => receiver.attempts.some((a) => a.status === 503 && a.body.includes(id)), 5_000);
      await crashing.kill();
      receiver.answer = 200;
      const restarted = await start(crashing.dataDir);
      try {
        await eventually(() => eventsFor(id).length >= 3, 15_000);
        expect(kinds(id)).toHaveLength(3);
      } finally {
        await restarted.stop();
      }
    } finally {
      await crashing.kill();
      crashing.cleanup();
    }
  });
});
