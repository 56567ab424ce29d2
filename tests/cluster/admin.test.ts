import { afterAll, afterEach, expect, it } from 'vitest';
import type { AdminOverview, AdminUser } from '../../lib/contract';
import { CLUSTER_TEST_TIMEOUT_MS, pushId, Resources, startNode, startPair, stopNode, token, type ClusterNode } from '../support/cluster';
import { request } from '../support/server';
import { connectClient, eventuallyAsync, waitForId, type ConnectedClient } from '../support/socket';

/**
 * The admin view across two real nodes sharing PostgreSQL and a private Redis:
 * a session from one node is accepted by the other, either node lists both,
 * a push accepted by one shows in the other's tail, a user lookup on one finds
 * the user's socket on the other, and a node that stops leaves the list.
 */

const ADMIN_TOKEN = 'admin-token-cluster-0123456789';
const shared = new Resources();
const perTest = new Resources();
let cluster: Promise<{ a: ClusterNode; b: ClusterNode }> | undefined;
let resolveOptions: (opts: Omit<Parameters<typeof startNode>[0], 'name'>) => void = () => undefined;
/** What every node of this file's cluster starts with (a test adds a third node). */
const clusterOptions = new Promise<Omit<Parameters<typeof startNode>[0], 'name'>>((resolve) => (resolveOptions = resolve));

async function startCluster() {
  const { a, b, opts } = await startPair(shared, 'adm', { schemaPrefix: 'herald_admin', env: { ADMIN_TOKEN } });
  resolveOptions(opts);
  return { a, b };
}
const getCluster = () => (cluster ??= startCluster());

afterEach(() => perTest.release());
afterAll(() => shared.release());

async function cookieFrom(node: ClusterNode): Promise<string> {
  const res = await request(node.url, '/api/admin/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: { token: ADMIN_TOKEN } });
  expect(res.status).toBe(200);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

const overviewOf = async (node: ClusterNode, cookie: string) => (await request(node.url, '/api/admin/overview', { headers: { cookie } })).body as AdminOverview;

it('lists both nodes from either, with a session issued by the other', async () => {
  const { a, b } = await getCluster();
  const cookie = await cookieFrom(a);
  expect((await request(b.url, '/api/admin/session', { headers: { cookie } })).status).toBe(200);
  for (const [node, self] of [
    [a, 'adm-a'],
    [b, 'adm-b'],
  ] as const) {
    let seen: AdminOverview | undefined;
    // Each node's dependencies are its latest probes: a Redis PING late under load reads false until the next one.
    const allUp = (o: AdminOverview) => o.nodes.length === 2 && o.nodes.every((n) => n.dependencies.postgres && n.dependencies.redis);
    await eventuallyAsync(async () => allUp((seen = await overviewOf(node, cookie))), 10_000);
    expect(seen?.nodes.map((n) => [n.id, n.self])).toEqual([
      ['adm-a', self === 'adm-a'],
      ['adm-b', self === 'adm-b'],
    ]);
    for (const n of seen?.nodes ?? []) expect(n.dependencies).toEqual({ postgres: true, redis: true });
  }
}, CLUSTER_TEST_TIMEOUT_MS);

it('shows a push accepted by node B in node A’s tail, and finds on A the user’s socket on B', async () => {
  const { a, b } = await getCluster();
  const cookie = await cookieFrom(a);
  const tab: ConnectedClient = perTest.add(await connectClient(b.url, { token: await token('adm-user') }), (c) => c.close());

  expect((await pushId(b.url, 'adm-from-b', ['adm-user'], { secret: 'never-shown' })).status).toBe(202);
  await waitForId(tab, 'adm-from-b');
  await eventuallyAsync(async () => (await overviewOf(a, cookie)).tail.some((t) => t.id === 'adm-from-b' && t.node === 'adm-b'), 10_000);

  const res = await request(a.url, '/api/admin/users/adm-user', { headers: { cookie } });
  expect(res.status).toBe(200);
  const user = res.body as AdminUser;
  expect(user.sockets).toEqual([expect.objectContaining({ id: tab.socket.id, node: 'adm-b', transport: 'websocket', lastSeq: tab.received.at(-1)?.seq })]);
  expect(user.unread).toBe(1);
  expect(user.notifications.map((n) => n.id)).toEqual(['adm-from-b']);
  expect(JSON.stringify(user)).not.toContain('never-shown');
}, CLUSTER_TEST_TIMEOUT_MS);

it('lists a node that joins, and drops it when it stops', async () => {
  const { a } = await getCluster();
  const cookie = await cookieFrom(a);
  const c = await startNode({ name: 'adm-c', ...(await clusterOptions) });
  try {
    await eventuallyAsync(async () => (await overviewOf(a, cookie)).nodes.some((n) => n.id === 'adm-c'), 10_000);
  } finally {
    await stopNode(c);
  }
  await eventuallyAsync(async () => !(await overviewOf(a, cookie)).nodes.some((n) => n.id === 'adm-c'), 15_000);
}, CLUSTER_TEST_TIMEOUT_MS);
