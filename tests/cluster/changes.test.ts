import { afterAll, afterEach, expect, it } from 'vitest';
import type { NotificationRemove, NotificationUpdate } from '../../lib/contract';
import { CLUSTER_TEST_TIMEOUT_MS, pushId, Resources, startPair, token, type ClusterNode } from '../support/cluster';
import { request, TEST_PUSH_KEY } from '../support/server';
import { connectClient, waitFor, waitForId, type ConnectedClient } from '../support/socket';

/**
 * Changes between nodes: a retract or an update accepted by node B reaches a
 * tab on node A (through the same channel and gate as notifications), and a
 * collapse on one node replaces the item a tab on the other holds.
 */

const shared = new Resources();
const perTest = new Resources();
let cluster: Promise<{ a: ClusterNode; b: ClusterNode }> | undefined;

const getCluster = () => (cluster ??= startPair(shared, 'chg'));

afterEach(() => perTest.release());
afterAll(() => shared.release());

async function tab(node: ClusterNode, userId: string): Promise<ConnectedClient> {
  return perTest.add(await connectClient(node.url, { token: await token(userId) }), (c) => c.close());
}

const api = (node: ClusterNode, method: string, path: string, body?: unknown) =>
  request(node.url, path, {
    method,
    headers: { authorization: `Bearer ${TEST_PUSH_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body,
  });

it('removes an item from a tab on node A when node B retracts it', async () => {
  const { a, b } = await getCluster();
  const onA = await tab(a, 'chg-retract');
  expect((await pushId(a.url, 'chg-r-1', ['chg-retract'])).status).toBe(202);
  await waitForId(onA, 'chg-r-1');
  const removal = waitFor<NotificationRemove>(onA.socket, 'notification:remove', 10_000);
  expect(await api(b, 'DELETE', '/api/notifications/chg-r-1')).toMatchObject({ status: 200, body: { recipients: 1 } });
  expect(await removal).toMatchObject({ ids: ['chg-r-1'], reason: 'retracted', unread: 0 });
}, CLUSTER_TEST_TIMEOUT_MS);

it('updates an item on a tab on node A when node B patches it', async () => {
  const { a, b } = await getCluster();
  const onA = await tab(a, 'chg-patch');
  expect((await pushId(b.url, 'chg-p-1', ['chg-patch'], { text: 'Export 40 %' })).status).toBe(202);
  await waitForId(onA, 'chg-p-1');
  const update = waitFor<NotificationUpdate>(onA.socket, 'notification:update', 10_000);
  expect((await api(b, 'PATCH', '/api/notifications/chg-p-1', { data: { text: 'Export ready' } })).status).toBe(200);
  expect(await update).toMatchObject({ id: 'chg-p-1', data: { text: 'Export ready' } });
}, CLUSTER_TEST_TIMEOUT_MS);

it('collapses across nodes: a push on node B replaces the item a tab on node A holds', async () => {
  const { a, b } = await getCluster();
  const onA = await tab(a, 'chg-collapse');
  const push = (node: ClusterNode, actor: string) =>
    request(node.url, '/api/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_PUSH_KEY}` },
      body: { tokens: ['chg-collapse'], collapseKey: 'post-9', data: { actor } },
    });
  const first = (await push(a, 'Bob')).body.id as string;
  await waitForId(onA, first);
  const second = (await push(b, 'Alice')).body.id as string;
  await waitForId(onA, second);
  expect(onA.received.find((n) => n.id === second)).toMatchObject({ replaces: [first], group: { count: 2 } });
}, CLUSTER_TEST_TIMEOUT_MS);
