import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import {
  alive,
  exactlyOnceInOrder,
  highestSeq,
  isReplay,
  pushId,
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
 * A node dies with SIGKILL while pushes flow at a steady rate (issue 5). Its
 * clients reconnect the way a browser behind a load balancer does: socket.io's
 * own reconnection, sending the highest seq they have seen as `lastSeq` (the
 * handshake auth is a function, re-evaluated on every attempt), and landing on
 * the surviving node (the load balancer's part, played here by pointing the
 * client's manager at the live node before each attempt). Every accepted
 * notification must end up on every tab exactly once, in seq order.
 */

const resources = new Resources();
afterEach(() => resources.release());

/** One push per slot; pushes are sequential, so acceptance order is seq order. */
const PUSH_PERIOD_MS = 20;
const TOTAL_PUSHES = 120;
/** The node is killed once this many pushes were accepted. */
const KILL_AFTER = 50;
/** How far into a push to A the kill lands: anywhere from before its commit to after its answer. */
const killIntoPushMs = () => Math.floor(Math.random() * 12);

interface FailoverClient {
  client: ConnectedClient;
  /** How many times the socket connected (1 + reconnections). */
  connects: () => number;
}

/**
 * A tab on `first` that, when its node goes away, reconnects to whatever
 * `route()` names, with `lastSeq` = the highest seq it has seen.
 */
async function failoverTab(first: ClusterNode, userId: string, route: () => ClusterNode): Promise<FailoverClient> {
  const userToken = await token(userId);
  const self: { client?: ConnectedClient } = {};
  let connects = 0;
  const client = await connectClient(
    first.url,
    // Re-evaluated on every (re)connection attempt, like the browser's.
    (cb) => cb({ token: userToken, lastSeq: highestSeq(self.client?.received ?? []) }),
    { reconnection: true, reconnectionDelay: 100 },
  );
  self.client = client;
  connects = 1;
  client.socket.on('connect', () => connects++);
  // The load balancer: every reconnection attempt goes to a live node.
  client.socket.io.on('reconnect_attempt', () => {
    (client.socket.io as unknown as { uri: string }).uri = route().url;
  });
  resources.add(client, (c) => c.close());
  return { client, connects: () => connects };
}

it('a node killed with SIGKILL mid-stream loses nothing: its tabs fail over to the other node and end with every accepted notification once, in order', async () => {
  const redis = resources.add(await startRedis(), (r) => r.stop());
  const schema = resources.add(await freshSchema(), (s) => s.drop());
  const opts = { databaseUrl: schema.databaseUrl, schema: schema.name, redisUrl: redis.url };
  const started = await Promise.allSettled([startNode({ name: 'kill-a', ...opts }), startNode({ name: 'kill-b', ...opts })]);
  for (const r of started) if (r.status === 'fulfilled') resources.add(r.value, stopNode);
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  const [a, b] = started.map((r) => (r as PromiseFulfilledResult<ClusterNode>).value) as [ClusterNode, ClusterNode];
  await Promise.all([waitReady(a), waitReady(b)]);

  let aLive = true;
  const liveNode = () => (aLive ? a : b);
  // kill-x: one tab, on the node that dies. kill-y: one tab on each node.
  const xOnA = await failoverTab(a, 'kill-x', () => b);
  const yOnA = await failoverTab(a, 'kill-y', () => b);
  const yOnB = await failoverTab(b, 'kill-y', liveNode);
  const tabs = { xOnA, yOnA, yOnB };

  const accepted: string[] = [];
  /** Pushes whose answer never came because their node died under them: stored or not, nobody knows. */
  const inDoubt: string[] = [];
  const otherFailures: string[] = [];
  let killed: Promise<void> | undefined;
  let killDelay = -1;
  const startedAt = Date.now();
  for (let i = 0; i < TOTAL_PUSHES; i++) {
    // Steady rate: slot i starts at startedAt + i * period (later if a push took longer).
    const wait = startedAt + i * PUSH_PERIOD_MS - Date.now();
    if (wait > 0) await sleep(wait);
    // Alternate between the nodes, but only live ones (a load balancer's health check).
    const target = i % 2 === 0 && aLive ? a : b;
    if (accepted.length >= KILL_AFTER && !killed && target === a) {
      // The kill lands while this push is in A's hands (or just after its answer): a real crash.
      killDelay = killIntoPushMs();
      killed = sleep(killDelay).then(() => {
        aLive = false;
        return a.kill();
      });
    }
    const id = `kill-${i}`;
    try {
      const res = await pushId(target.url, id, ['kill-x', 'kill-y'], i);
      if (res.status === 202) accepted.push(id);
      else otherFailures.push(`${id} via ${target.name}: ${res.status} ${JSON.stringify(res.body)}`);
    } catch (err) {
      if (target === a && killed) inDoubt.push(id);
      else otherFailures.push(`${id} via ${target.name}: ${(err as Error).message}`);
    }
  }
  await killed;
  expect(killed).toBeDefined();
  expect(otherFailures).toEqual([]);
  expect(alive(a)).toBe(false);
  expect(alive(b)).toBe(true);

  // A last push, on the survivor: delivery is in seq order, so once every tab has it, anything
  // still missing is lost, not late.
  const fence = 'kill-fence';
  expect((await pushId(b.url, fence, ['kill-x', 'kill-y'])).status).toBe(202);
  accepted.push(fence);
  for (const [name, tab] of Object.entries(tabs)) {
    await eventually(() => tab.client.received.some((n) => n.id === fence), 15_000).catch(() => {
      throw new Error(`${name} never got the fence; connected=${tab.client.socket.connected}, got ${tab.client.received.length}`);
    });
  }

  // Which of the in-doubt pushes were in fact stored (committed before the kill).
  const stored = await withDatabase(async (c) => {
    const { rows } = await c.query<{ id: string }>(`SELECT id FROM ${schema.name}.notifications WHERE id = ANY($1::text[])`, [inDoubt]);
    return rows.map((r) => r.id);
  });

  for (const [name, tab] of Object.entries(tabs)) {
    const got = tab.client.received;
    // Exact totals: every accepted one, once, in seq order, nothing that was never pushed.
    const label = `${name} (killed ${killDelay} ms into a push; in doubt: ${inDoubt.join(', ') || 'none'}, stored: ${stored.join(', ') || 'none'})`;
    expect({ tab: label, ...tally(accepted, got, inDoubt) }).toEqual({ tab: label, ...exactlyOnceInOrder(accepted) });
    // In doubt: never twice, and never one that was not stored.
    for (const id of inDoubt) {
      const copies = got.filter((n) => n.id === id).length;
      expect(copies).toBeLessThanOrEqual(stored.includes(id) ? 1 : 0);
    }
    // The order is the order of acceptance (pushes were sequential).
    expect(got.map((n) => n.id).filter((id) => !inDoubt.includes(id))).toEqual(accepted);
    expect(tab.client.socket.connected).toBe(true);
  }
  // The tabs on the dead node reconnected (to the survivor) and caught up from the inbox;
  // the tab on the survivor never had to.
  for (const tab of [xOnA, yOnA]) {
    expect(tab.connects()).toBeGreaterThanOrEqual(2);
    expect((tab.client.socket.io as unknown as { uri: string }).uri).toBe(b.url);
  }
  expect(yOnB.connects()).toBe(1);
  expect(yOnB.client.received.some(isReplay)).toBe(false);
  // The push stream really did straddle the kill, on both nodes.
  expect(accepted.length).toBeGreaterThan(KILL_AFTER + 10);
}, CLUSTER_TEST_TIMEOUT_MS);
