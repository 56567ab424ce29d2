import { afterAll, expect, it } from 'vitest';
import type { WebhookBatch } from '../../lib/contract';
import { CLUSTER_TEST_TIMEOUT_MS, Resources, startNode, stopNode, token, waitReady } from '../support/cluster';
import { push } from '../support/server';
import { freshSchema } from '../support/services';
import { connectClient, eventually, waitForId } from '../support/socket';
import { startReceiver, TEST_WEBHOOK_SECRET } from '../support/webhookReceiver';

/**
 * Two real nodes on one PostgreSQL schema send one outbox: every event reaches
 * the receiver, and none twice (each batch and each escalation is claimed by one
 * node). Production mode, so real time: the shortest escalation, 10 s.
 */

const resources = new Resources();
afterAll(() => resources.release());

it(
  'sends each receipt and each escalation once between two nodes',
  async () => {
    const receiver = resources.add(await startReceiver(), (r) => r.close());
    const schema = resources.add(await freshSchema('herald_webhooks'), (s) => s.drop());
    const env = { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: TEST_WEBHOOK_SECRET };
    const opts = { databaseUrl: schema.databaseUrl, schema: schema.name, env };
    const [a, b] = await Promise.all([startNode({ name: 'hook-a', ...opts }), startNode({ name: 'hook-b', ...opts })]);
    resources.add(a, stopNode);
    resources.add(b, stopNode);
    await Promise.all([waitReady(a), waitReady(b)]);

    // 20 pushes to 50 users who never connect, through both nodes: 1000 escalations.
    const users = Array.from({ length: 50 }, (_, i) => `absent-${i}`);
    const ids = Array.from({ length: 20 }, (_, i) => `esc-${i}`);
    for (const [i, id] of ids.entries()) {
      const res = await push((i % 2 ? a : b).url, { id, userIds: users, data: {}, escalate: { after: 10 } });
      expect(res.status).toBe(202);
    }
    // And receipts from a user on each node.
    for (const [node, userId] of [[a, 'reader-a'], [b, 'reader-b']] as const) {
      const client = resources.add(await connectClient(node.url, { token: await token(userId) }), (c) => c.close());
      const id = `seen-${userId}`;
      expect((await push(node.url, { id, userIds: [userId], data: {} })).status).toBe(202);
      await waitForId(client, id);
      const ack = (await client.socket.timeout(5_000).emitWithAck('notifications:seen', { ids: [id] })) as { ok: boolean };
      expect(ack.ok).toBe(true);
    }

    await eventually(() => receiver.events.filter((e) => e.type === 'notification.escalated').length >= 1000, 40_000, 100);
    // Time for any duplicate to show up.
    await new Promise((r) => setTimeout(r, 2_000));
    const keys = receiver.events.map((e) => `${e.type} ${e.id} ${e.userId}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.filter((k) => k.startsWith('notification.escalated'))).toHaveLength(1000);
    expect(keys.filter((k) => k.includes('seen-reader')).sort()).toEqual([
      'notification.delivered seen-reader-a reader-a',
      'notification.delivered seen-reader-b reader-b',
      'notification.seen seen-reader-a reader-a',
      'notification.seen seen-reader-b reader-b',
    ]);
    const accepted = receiver.attempts.filter((x) => x.status === 200);
    expect(new Set(accepted.map((x) => x.webhookId)).size).toBe(accepted.length);
    expect(accepted.every((x) => (JSON.parse(x.body) as WebhookBatch).data.events.length <= 500)).toBe(true);
    expect(receiver.forged).toBe(0);
  },
  CLUSTER_TEST_TIMEOUT_MS,
);
