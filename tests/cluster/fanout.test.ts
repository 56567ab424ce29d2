import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, expect, it } from 'vitest';
import {
  exactlyOnceInOrder,
  pushId,
  CLUSTER_TEST_TIMEOUT_MS,
  Resources,
  startPair,
  tally,
  token,
  type ClusterNode,
} from '../support/cluster';
import { request, TEST_PUSH_KEY } from '../support/server';
import { connectClient, eventually, waitForId, type ConnectedClient } from '../support/socket';

/**
 * Fan-out between two real node processes sharing one PostgreSQL schema and one
 * (private) Redis: a push accepted by any node reaches the user's tabs on every
 * node, once, and the `online` count in the answer counts the whole cluster.
 *
 * The cluster is started by the first test that needs it (not in a hook, so a
 * missing Redis or PostgreSQL fails every test loudly instead of skipping them).
 */

interface Cluster {
  a: ClusterNode;
  b: ClusterNode;
}

const shared = new Resources();
const perTest = new Resources();
let cluster: Promise<Cluster> | undefined;

const getCluster = () => (cluster ??= startPair(shared, 'fan'));

afterEach(() => perTest.release());
afterAll(() => shared.release());

async function tab(node: ClusterNode, userId: string): Promise<ConnectedClient> {
  return perTest.add(await connectClient(node.url, { token: await token(userId) }), (c) => c.close());
}

it('delivers a push sent to node A to a user connected to node B', async () => {
  const { a, b } = await getCluster();
  const onB = await tab(b, 'fan-b-only');

  const res = await pushId(a.url, 'fan-a-to-b', ['fan-b-only'], { hello: 'from A' });
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ id: 'fan-a-to-b', recipients: 1, online: 1 });
  await waitForId(onB, 'fan-a-to-b');

  expect(onB.received).toHaveLength(1);
  expect(onB.received[0]).toMatchObject({ id: 'fan-a-to-b', entityType: 'cluster', data: { hello: 'from A' }, read: false });
  expect(tally(['fan-a-to-b'], onB.received)).toEqual(exactlyOnceInOrder(['fan-a-to-b']));
}, CLUSTER_TEST_TIMEOUT_MS);

it('delivers every push to a user with one tab on each node on both tabs, once and in order', async () => {
  const { a, b } = await getCluster();
  const user = 'fan-two-tabs';
  const onA = await tab(a, user);
  const onB = await tab(b, user);

  const sent: string[] = [];
  for (let i = 0; i < 30; i++) {
    const id = `fan-two-${i}`;
    // Alternate the node that accepts the push.
    const res = await pushId(i % 2 === 0 ? a.url : b.url, id, [user], i);
    expect(res.status).toBe(202);
    // One user, online on two nodes: counted once.
    expect(res.body).toEqual({ id, recipients: 1, online: 1 });
    sent.push(id);
  }
  // A last push through each node: once both fences are in, anything else (a duplicate) would have arrived too.
  for (const [node, id] of [[a, 'fan-two-fence-a'], [b, 'fan-two-fence-b']] as const) {
    expect((await pushId(node.url, id, [user])).status).toBe(202);
    sent.push(id);
  }
  await waitForId(onA, 'fan-two-fence-b');
  await waitForId(onB, 'fan-two-fence-b');

  expect(tally(sent, onA.received)).toEqual(exactlyOnceInOrder(sent));
  expect(tally(sent, onB.received)).toEqual(exactlyOnceInOrder(sent));
  expect(onA.received.map((n) => n.id)).toEqual(sent);
  expect(onB.received.map((n) => n.id)).toEqual(sent);
  // Same notification, same seq, wherever it was delivered.
  expect(onA.received.map((n) => n.seq)).toEqual(onB.received.map((n) => n.seq));
}, CLUSTER_TEST_TIMEOUT_MS);

it("counts online users across the cluster in /api/push's answer", async () => {
  const { a, b } = await getCluster();
  const onB = await tab(b, 'fan-online-b');
  const sent: string[] = [];
  const pushTo = async (node: ClusterNode, id: string, users: string[]) => {
    const res = await pushId(node.url, id, users);
    expect(res.status).toBe(202);
    if (users.includes('fan-online-b')) sent.push(id);
    return res.body as { id: string; recipients: number; online: number };
  };

  // Only on B, pushed via A: A answers for the whole cluster.
  expect(await pushTo(a, 'fan-online-1', ['fan-online-b'])).toEqual({ id: 'fan-online-1', recipients: 1, online: 1 });
  // One recipient on each node, one offline: 2 of 3 online, whichever node is asked.
  const onA = await tab(a, 'fan-online-a');
  expect(await pushTo(a, 'fan-online-2', ['fan-online-b', 'fan-online-a', 'fan-online-nobody'])).toMatchObject({
    recipients: 3,
    online: 2,
  });
  expect(await pushTo(b, 'fan-online-3', ['fan-online-b', 'fan-online-a', 'fan-online-nobody'])).toMatchObject({
    recipients: 3,
    online: 2,
  });
  await waitForId(onB, 'fan-online-3');
  await waitForId(onA, 'fan-online-3');
  expect(tally(sent, onB.received)).toEqual(exactlyOnceInOrder(sent));
  expect(tally(['fan-online-2', 'fan-online-3'], onA.received)).toEqual(exactlyOnceInOrder(['fan-online-2', 'fan-online-3']));

  // The tab on B closes: A's count drops to 0 (soon; presence is written asynchronously).
  onB.close();
  let offlinePushes = 0;
  let last = { online: -1 };
  // Bounded: at most 100 pushes, 100 ms apart.
  for (let i = 0; i < 100 && last.online !== 0; i++) {
    last = await pushTo(a, `fan-online-after-${i}`, ['fan-online-b']);
    offlinePushes++;
    if (last.online !== 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(last).toMatchObject({ recipients: 1, online: 0 });
  // And it stays 0, from either node.
  expect(await pushTo(b, 'fan-online-after-b', ['fan-online-b'])).toMatchObject({ online: 0 });
  expect(await pushTo(a, 'fan-online-after-a', ['fan-online-b'])).toMatchObject({ online: 0 });
  expect(offlinePushes).toBeGreaterThanOrEqual(1);
}, CLUSTER_TEST_TIMEOUT_MS);

it('delivers pushes accepted concurrently by both nodes to every tab exactly once, in the order they were acknowledged', async () => {
  const { a, b } = await getCluster();
  const user = 'fan-concurrent';
  const tabs = { onA: await tab(a, user), onB: await tab(b, user) };
  const TOTAL = 200;
  const IN_FLIGHT = 8;

  interface Sent {
    id: string;
    node: ClusterNode;
    sentAt: number;
    ackedAt: number;
  }
  const accepted: Sent[] = [];
  const refused: string[] = [];
  let next = 0;
  // IN_FLIGHT pushers sharing one counter; each push alternates the node.
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < TOTAL) {
        const i = next++;
        const node = i % 2 === 0 ? a : b;
        const id = `fan-conc-${i}`;
        const sentAt = performance.now();
        const res = await pushId(node.url, id, [user], i);
        if (res.status === 202) accepted.push({ id, node, sentAt, ackedAt: performance.now() });
        else refused.push(`${id}: ${res.status}`);
      }
    }),
  );
  expect(refused).toEqual([]);
  const ids = accepted.map((p) => p.id);
  for (const client of Object.values(tabs)) await eventually(() => client.received.length >= TOTAL, 10_000).catch(() => undefined);
  // A last push through each node, after every answer: nothing else can still be on its way.
  for (const [node, id] of [[a, 'fan-conc-fence-a'], [b, 'fan-conc-fence-b']] as const) {
    const sentAt = performance.now();
    expect((await pushId(node.url, id, [user])).status).toBe(202);
    accepted.push({ id, node, sentAt, ackedAt: performance.now() });
    ids.push(id);
  }
  for (const client of Object.values(tabs)) {
    await waitForId(client, 'fan-conc-fence-a');
    await waitForId(client, 'fan-conc-fence-b');
  }

  for (const [name, client] of Object.entries(tabs)) {
    const position = new Map(client.received.map((n, i) => [n.id, i]));
    // Causal order: a push acknowledged before another was sent arrives before it, on every tab.
    let causalInversions = 0;
    for (const earlier of accepted) {
      for (const later of accepted) {
        if (earlier.ackedAt < later.sentAt && position.get(earlier.id)! > position.get(later.id)!) causalInversions++;
      }
    }
    // Each node's pushes arrive in seq order; two pushes in flight at once through different
    // nodes may arrive either way round (pub/sub has no global order: docs/cluster.md).
    const perNode = [a, b].map((node) => {
      const mine = new Set(accepted.filter((p) => p.node === node).map((p) => p.id));
      return tally([...mine], client.received.filter((n) => mine.has(n.id))).reordered;
    });
    const all = tally(ids, client.received);
    expect({ tab: name, ...all, reordered: perNode[0]! + perNode[1]! + causalInversions }).toEqual({
      tab: name,
      ...exactlyOnceInOrder(ids),
    });
  }
}, CLUSTER_TEST_TIMEOUT_MS);

it('refuses on node B the exact bytes of a signed push node A accepted (replay across nodes), once per cluster', async () => {
  const { a, b } = await getCluster();
  const onB = await tab(b, 'fan-signed');
  const signedPush = (url: string, body: string, timestamp: number) =>
    request(url, '/api/push', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-herald-timestamp': String(timestamp),
        'x-herald-signature': createHmac('sha256', TEST_PUSH_KEY).update(`${timestamp}.${body}`).digest('hex'),
      },
      body,
    });
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ tokens: ['fan-signed'], data: 'signed once' });

  const first = await signedPush(a.url, body, now);
  expect(first.status).toBe(202);
  for (const node of [b, a]) {
    const again = await signedPush(node.url, body, now);
    expect({ node: node.name, status: again.status, code: again.body?.error?.code }).toEqual({
      node: node.name,
      status: 401,
      code: 'signature_replayed',
    });
  }
  // The same body signed afresh (a new timestamp) is a new request, on either node.
  const fresh = await signedPush(b.url, body, now + 1);
  expect(fresh.status).toBe(202);
  await waitForId(onB, fresh.body.id as string);
  expect(onB.received.map((n) => n.id)).toEqual([first.body.id, fresh.body.id]);
}, CLUSTER_TEST_TIMEOUT_MS);
