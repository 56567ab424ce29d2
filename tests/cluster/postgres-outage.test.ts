import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import {
  alive,
  exactlyOnceInOrder,
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
import { TEST_PUSH_KEY, type HttpResult } from '../support/server';
import { freePort, freshSchema, startRedis, startTcpProxy, TEST_DATABASE_URL, withDatabase, type TcpProxy } from '../support/services';
import { connectClient, eventually, type ConnectedClient } from '../support/socket';

/**
 * PostgreSQL unreachable (issue 5): a node never boots without its database,
 * and a running node whose database goes away answers /api/push 503
 * `unavailable` quickly, never a 202, says so on /readyz, and keeps delivering
 * what other nodes accept. The database "goes away" through a TCP proxy the
 * test controls; the real PostgreSQL is never touched.
 */

/**
 * "Quickly": the PostgreSQL inbox gives up on a connection after 2 s and on a
 * silent one after 5.5 s (lib/inbox/postgres/pool.ts), and a push queued behind a
 * batch that timed out fails with it rather than wait a second timeout. A push
 * answered later than this counts as hanging.
 */
const ANSWER_WITHIN_MS = 6_500;

const resources = new Resources();
afterEach(() => resources.release());

/** POST /api/push that gives up (and fails the test) if no answer comes within ANSWER_WITHIN_MS. */
async function pushWithin(url: string, id: string, userIds: string[]): Promise<HttpResult & { ms: number }> {
  const started = Date.now();
  const res = await fetch(`${url}/api/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_PUSH_KEY}` },
    body: JSON.stringify({ id, tokens: userIds, entityType: 'cluster' }),
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  }).catch((err: Error) => {
    throw new Error(`push ${id} to ${url}: no answer in ${ANSWER_WITHIN_MS} ms (${err.message})`);
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body, headers: res.headers, ms: Date.now() - started };
}

async function storedIds(schema: string, ids: string[]): Promise<string[]> {
  return withDatabase(async (c) => {
    const { rows } = await c.query<{ id: string }>(`SELECT id FROM ${schema}.notifications WHERE id = ANY($1::text[])`, [ids]);
    return rows.map((r) => r.id);
  });
}

it('a node whose DATABASE_URL points at a dead port fails to boot, with a clear message and a non-zero exit', async () => {
  const deadPort = await freePort();
  const schema = resources.add(await freshSchema(), (s) => s.drop());
  const deadUrl = `postgres://postgres@127.0.0.1:${deadPort}/test`;
  const boot = startNode({ name: 'pg-dead', databaseUrl: deadUrl, schema: schema.name });
  // If it did come up, stop it (and fail below).
  boot.then((node) => resources.add(node, stopNode)).catch(() => undefined);

  const error = await boot.then(
    () => undefined,
    (err: Error) => err,
  );
  expect(error, 'the node started without its database').toBeInstanceOf(Error);
  const message = error!.message;
  const exit = /server exited \((\w+)\) before listening/.exec(message);
  expect(exit, message).not.toBeNull();
  expect(exit![1]).not.toBe('0');
  expect(exit![1]).not.toBe('null');
  // The message names the failure and where: the database connection, refused at the dead port.
  expect(message).toMatch(/inbox|database|postgres/i);
  expect(message).toContain('ECONNREFUSED');
  expect(message).toContain(String(deadPort));
}, CLUSTER_TEST_TIMEOUT_MS);

interface ProxiedCluster {
  /** Straight to PostgreSQL. */
  direct: ClusterNode;
  /** Through the proxy the test controls. */
  proxied: ClusterNode;
  proxy: TcpProxy;
  schema: string;
}

async function startProxiedCluster(prefix: string): Promise<ProxiedCluster> {
  const redis = resources.add(await startRedis(), (r) => r.stop());
  const schema = resources.add(await freshSchema(), (s) => s.drop());
  const target = new URL(TEST_DATABASE_URL);
  const proxy = resources.add(await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }), (p) => p.close());
  const started = await Promise.allSettled([
    startNode({ name: `${prefix}-direct`, databaseUrl: TEST_DATABASE_URL, schema: schema.name, redisUrl: redis.url }),
    startNode({ name: `${prefix}-proxied`, databaseUrl: proxy.urlFor(TEST_DATABASE_URL), schema: schema.name, redisUrl: redis.url }),
  ]);
  for (const r of started) if (r.status === 'fulfilled') resources.add(r.value, stopNode);
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  const [direct, proxied] = started.map((r) => (r as PromiseFulfilledResult<ClusterNode>).value) as [ClusterNode, ClusterNode];
  await Promise.all([waitReady(direct), waitReady(proxied)]);
  return { direct, proxied, proxy, schema: schema.name };
}

/**
 * The shared scenario: pushes through both nodes, the proxied node loses its
 * database (`goAway`), then gets it back. Returns nothing; asserts throughout.
 */
async function databaseGoesAway(prefix: string, goAway: (proxy: TcpProxy) => Promise<void> | void): Promise<void> {
  const { direct, proxied, proxy, schema } = await startProxiedCluster(prefix);
  const user = `${prefix}-user`;
  const tab = async (node: ClusterNode): Promise<ConnectedClient> =>
    resources.add(await connectClient(node.url, { token: await token(user) }), (c) => c.close());
  const onDirect = await tab(direct);
  const onProxied = await tab(proxied);
  const accepted: string[] = [];
  const refused: string[] = [];
  const accept = async (node: ClusterNode, id: string) => {
    const res = await pushWithin(node.url, id, [user]);
    expect(res.status, `${id} via ${node.name}: ${JSON.stringify(res.body)}`).toBe(202);
    accepted.push(id);
  };

  // Healthy: both nodes accept.
  for (let i = 0; i < 10; i++) await accept(i % 2 === 0 ? direct : proxied, `${prefix}-up-${i}`);

  // A busy node holds several idle database connections; warm the pool the way traffic does
  // (tabs catching up at once), so the outage finds more than one connection to go silent.
  const warm = await Promise.all(
    Array.from({ length: 8 }, async () => connectClient(proxied.url, { token: await token(`${prefix}-warm`), lastSeq: 0 })),
  );
  for (const c of warm) c.close();
  expect(proxy.connections()).toBeGreaterThanOrEqual(3);

  await goAway(proxy);

  // The proxied node refuses pushes, quickly and clearly; one at a time, then several at once.
  const refuse = async (id: string) => {
    const res = await pushWithin(proxied.url, id, [user]);
    expect(res.status, `${id}: ${JSON.stringify(res.body)} after ${res.ms} ms`).toBe(503);
    expect(res.body).toMatchObject({ error: { code: 'unavailable' } });
    expect(res.headers.get('retry-after')).toBe('1');
    refused.push(id);
  };
  await refuse(`${prefix}-down-0`);
  // Several at once, and some arriving while others wait on the database.
  await Promise.all(
    [1, 2, 3, 4].map(async (i) => {
      await sleep((i - 1) * 700);
      await refuse(`${prefix}-down-${i}`);
    }),
  );

  // It says so on /readyz; Redis is fine. The other node is ready and keeps accepting,
  // and the proxied node still delivers those pushes to its tabs (via Redis).
  const unready = await readyz(proxied);
  expect(unready.status).toBe(503);
  expect(unready.body).toMatchObject({ status: 'unready', checks: { database: { ok: false, kind: 'postgres' }, redis: { ok: true } } });
  expect((await readyz(direct)).status).toBe(200);
  for (let i = 0; i < 10; i++) await accept(direct, `${prefix}-other-${i}`);

  // The database comes back: the node recovers on its own (bounded wait).
  await proxy.restore();
  await waitReady(proxied, 20_000);
  for (let i = 0; i < 10; i++) await accept(i % 2 === 0 ? proxied : direct, `${prefix}-back-${i}`);

  for (const client of [onDirect, onProxied]) await eventually(() => client.received.length >= accepted.length, 10_000).catch(() => undefined);
  for (const [name, client] of [['onDirect', onDirect], ['onProxied', onProxied]] as const) {
    // Exact totals: every accepted push once, in order; none of the refused ones.
    expect({ tab: name, ...tally(accepted, client.received) }).toEqual({ tab: name, ...exactlyOnceInOrder(accepted) });
    expect(client.received.map((n) => n.id)).toEqual(accepted);
  }
  // A 503 stored nothing: "nothing was accepted" is true.
  expect(await storedIds(schema, refused)).toEqual([]);
  expect((await storedIds(schema, accepted)).length).toBe(accepted.length);
  expect([alive(direct), alive(proxied)]).toEqual([true, true]);
}

it('a running node whose database goes away answers /api/push 503 unavailable quickly, never 202, and recovers when it returns', async () => {
  // The database process is gone: connections reset, new ones refused.
  await databaseGoesAway('pgcut', (proxy) => proxy.cut());
}, CLUSTER_TEST_TIMEOUT_MS);

it('a running node cut off from its database by a silent network answers /api/push 503 unavailable quickly, never 202', async () => {
  // A partition: open connections go silent, new ones are never answered.
  await databaseGoesAway('pgfreeze', (proxy) => proxy.freeze());
}, CLUSTER_TEST_TIMEOUT_MS);
