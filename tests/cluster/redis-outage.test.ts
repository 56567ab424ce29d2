import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import {
  alive,
  exactlyOnceInOrder,
  highestSeq,
  isReplay,
  pushId,
  readyz,
  CLUSTER_TEST_TIMEOUT_MS,
  Resources,
  startNode,
  stopNode,
  tally,
  token,
  waitReady,
  type ClusterNode,
} from '../support/cluster';
import { freshSchema, startRedis, withDatabase } from '../support/services';
import { connectClient, eventually, type ConnectedClient } from '../support/socket';

/**
 * Redis (the fan-out link) stops for a few seconds mid-stream and comes back
 * (issue 5). Pushes keep being accepted and stored; each node keeps delivering
 * its own pushes to its own tabs; when the link returns, each tab is replayed
 * from the inbox what it missed (flagged `replay`). Nothing exits, nothing is
 * lost, nothing is doubled, and live delivery stays in seq order.
 *
 * The Redis is a private redis-server: the shared one is never stopped.
 */

const resources = new Resources();
afterEach(() => resources.release());

const PUSH_PERIOD_MS = 25;
const BEFORE = 20;
/** Pushes while Redis is down (at PUSH_PERIOD_MS: a few seconds). */
const DURING = 120;
const AFTER = 20;

interface Accepted {
  /** Every accepted push, in acceptance (= seq) order. */
  ids: string[];
  recipients: Map<string, string[]>;
}

/** Sequential pushes at a steady rate, alternating between the nodes; every one must be accepted. */
async function pushStream(nodes: ClusterNode[], prefix: string, count: number, users: string[], accepted: Accepted): Promise<void> {
  const startedAt = Date.now();
  for (let i = 0; i < count; i++) {
    const wait = startedAt + i * PUSH_PERIOD_MS - Date.now();
    if (wait > 0) await sleep(wait);
    const node = nodes[i % nodes.length]!;
    const id = `${prefix}-${i}`;
    const res = await pushId(node.url, id, users, i);
    expect(res.status, `${id} via ${node.name}: ${JSON.stringify(res.body)}`).toBe(202);
    accepted.ids.push(id);
    accepted.recipients.set(id, users);
  }
}

interface Tab {
  client: ConnectedClient;
  userId: string;
  /** The tab has seen everything up to here when it connected: its lastSeq, or (first visit) the head it was told. */
  baseline: () => number;
}

it('Redis stopped for a few seconds mid-stream and started again: no node exits, every accepted push reaches every tab exactly once', async () => {
  const redis = resources.add(await startRedis(), (r) => r.stop());
  const schema = resources.add(await freshSchema(), (s) => s.drop());
  const opts = { databaseUrl: schema.databaseUrl, schema: schema.name, redisUrl: redis.url };
  const started = await Promise.allSettled([startNode({ name: 'ro-a', ...opts }), startNode({ name: 'ro-b', ...opts })]);
  for (const r of started) if (r.status === 'fulfilled') resources.add(r.value, stopNode);
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  const [a, b] = started.map((r) => (r as PromiseFulfilledResult<ClusterNode>).value) as [ClusterNode, ClusterNode];
  await Promise.all([waitReady(a), waitReady(b)]);

  const tab = async (node: ClusterNode, userId: string, lastSeq?: number): Promise<Tab> => {
    const auth = { token: await token(userId), ...(lastSeq !== undefined ? { lastSeq } : {}) };
    const client = resources.add(await connectClient(node.url, auth), (c) => c.close());
    return { client, userId, baseline: () => lastSeq ?? client.synced[0]!.headSeq };
  };
  const accepted: Accepted = { ids: [], recipients: new Map() };

  // ro-q has history before any tab of theirs opens, then hears nothing until Redis is down.
  await pushStream([a, b], 'ro-history', 6, ['ro-q'], accepted);
  // ro-x: a tab on each node. ro-y: one tab, on B. ro-q: one tab on A (a first visit: no replay).
  const tabs: Record<string, Tab> = {
    xOnA: await tab(a, 'ro-x'),
    xOnB: await tab(b, 'ro-x'),
    yOnB: await tab(b, 'ro-y'),
    qOnA: await tab(a, 'ro-q'),
  };
  expect(tabs.qOnA!.client.received).toEqual([]);

  await pushStream([a, b], 'ro-before', BEFORE, ['ro-x', 'ro-y'], accepted);

  // Redis goes away.
  await redis.stop();
  const users = ['ro-x', 'ro-y', 'ro-q'];
  const during = pushStream([a, b], 'ro-during', DURING, users, accepted);
  // Both nodes notice, and say so on /readyz, while pushes go on being accepted.
  for (const node of [a, b]) {
    let last: Awaited<ReturnType<typeof readyz>> | undefined;
    for (let i = 0; i < 100; i++) {
      last = await readyz(node);
      if (last.status === 503) break;
      await sleep(20);
    }
    expect(last?.status, `${node.name} /readyz during the outage`).toBe(503);
    expect(last?.body).toMatchObject({ status: 'unready', checks: { redis: { ok: false }, database: { ok: true } } });
  }
  // Halfway through the outage, tabs open: one returning with a lastSeq, and first visits.
  await eventually(() => accepted.ids.length >= BEFORE + DURING / 2, 15_000);
  const xSeen = highestSeq(tabs.xOnA!.client.received);
  tabs.xBackOnB = await tab(b, 'ro-x', xSeen);
  tabs.yNewOnA = await tab(a, 'ro-y');
  tabs.qNewOnB = await tab(b, 'ro-q');
  await during;
  // Still down at the end of the stream, and still unready.
  for (const node of [a, b]) {
    const res = await readyz(node);
    expect(res.status).toBe(503);
    expect(res.body.checks.redis.ok).toBe(false);
  }

  // Redis comes back (empty: no persistence).
  await redis.start();
  await Promise.all([waitReady(a), waitReady(b)]);
  await pushStream([a, b], 'ro-after', AFTER, users, accepted);

  // What each tab must end with: every accepted push for its user above its baseline.
  const seqOf = await withDatabase(async (c) => {
    const { rows } = await c.query<{ id: string; seq: string }>(`SELECT id, seq FROM ${schema.name}.notifications`);
    return new Map(rows.map((r) => [r.id, Number(r.seq)]));
  });
  const expectedFor = (t: Tab) =>
    accepted.ids.filter((id) => accepted.recipients.get(id)!.includes(t.userId) && seqOf.get(id)! > t.baseline());

  // Everything accepted arrives in the end (the catch-up after recovery included).
  for (const [name, t] of Object.entries(tabs)) {
    const want = expectedFor(t);
    await eventually(() => {
      const got = new Set(t.client.received.map((n) => n.id));
      return want.every((id) => got.has(id));
    }, 15_000).catch(() => {
      const got = new Set(t.client.received.map((n) => n.id));
      throw new Error(`${name} is missing ${want.filter((id) => !got.has(id)).join(', ')}`);
    });
  }
  // A last push through each node: whatever was still on its way (a duplicate) has had its chance.
  for (const [node, id] of [[a, 'ro-fence-a'], [b, 'ro-fence-b']] as const) {
    expect((await pushId(node.url, id, users)).status).toBe(202);
    accepted.ids.push(id);
    accepted.recipients.set(id, users);
    seqOf.set(id, Number.MAX_SAFE_INTEGER);
  }
  for (const t of Object.values(tabs)) await eventually(() => t.client.received.some((n) => n.id === 'ro-fence-b'), 10_000);
  for (const t of Object.values(tabs)) await eventually(() => t.client.received.some((n) => n.id === 'ro-fence-a'), 10_000);

  for (const [name, t] of Object.entries(tabs)) {
    const want = expectedFor(t);
    const live = t.client.received.filter((n) => !isReplay(n));
    // Exact totals: all expected, none twice, none unexpected; live deliveries in seq order
    // (what is flagged `replay` is the catch-up, which fills in below them).
    expect.soft({ tab: name, ...tally(want, t.client.received), reordered: tally(want, live).reordered }).toEqual({
      tab: name,
      ...exactlyOnceInOrder(want),
    });
    expect(t.client.socket.connected).toBe(true);
  }
  // The tabs open before the outage got, by catch-up after it, only what the other node accepted meanwhile.
  for (const name of ['xOnA', 'xOnB', 'yOnB', 'qOnA']) {
    const replayed = tabs[name]!.client.received.filter(isReplay);
    expect(replayed.length, name).toBeGreaterThan(0);
    expect(replayed.every((n) => n.id.startsWith('ro-during-') || n.id.startsWith('ro-after-')), name).toBe(true);
    expect(tally(replayed.map((n) => n.id), replayed).reordered, name).toBe(0);
  }

  // No node exited (nor logged a crash), and both are ready again.
  expect([alive(a), alive(b)]).toEqual([true, true]);
  for (const node of [a, b]) expect(node.logs.filter((l) => /unhandled|uncaught/i.test(l))).toEqual([]);
  for (const node of [a, b]) {
    const res = await readyz(node);
    expect(res.status).toBe(200);
    expect(res.body.checks).toMatchObject({ redis: { ok: true }, database: { ok: true } });
  }
}, CLUSTER_TEST_TIMEOUT_MS);
