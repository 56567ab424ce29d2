import { setTimeout as sleep } from 'node:timers/promises';
import type { WireNotification } from '../../lib/contract';
import { push, request, startServer, TEST_PUSH_KEY, tokenFor, type HttpResult, type TestServer } from './server';
import { freshSchema, startRedis } from './services';
import type { ConnectedClient } from './socket';

/**
 * Helpers for tests that run several real Herald nodes against one PostgreSQL
 * schema and one Redis: start a node, push with known ids, and measure what a
 * client got against what was accepted.
 */

/** Per test: node processes boot, fail and recover in real time, on a small shared machine. */
export const CLUSTER_TEST_TIMEOUT_MS = 90_000;

export interface NodeOptions {
  /** NODE_ID, and the node's name in failure messages. */
  name: string;
  databaseUrl: string;
  schema: string;
  /** Omit for a node without Redis (embedded fan-out, PostgreSQL inbox). */
  redisUrl?: string;
  env?: Record<string, string | undefined>;
}

export type ClusterNode = TestServer & { name: string };

/** Starts one production-mode node (real secrets) in its own process. */
export async function startNode(opts: NodeOptions): Promise<ClusterNode> {
  const server = await startServer({
    mode: 'production',
    env: {
      DATABASE_URL: opts.databaseUrl,
      DATABASE_SCHEMA: opts.schema,
      REDIS_URL: opts.redisUrl,
      NODE_ID: opts.name,
      ...opts.env,
    },
  });
  return Object.assign(server, { name: opts.name });
}

/** Whether the node's process is still running (no exit, no signal). */
export const alive = (node: TestServer): boolean => node.process.exitCode === null && node.process.signalCode === null;

/** Cleanup actions run last-in first-out; each is awaited, and a failing one does not stop the rest. */
export class Resources {
  private readonly stack: Array<() => unknown> = [];

  /** `release` may return a promise; it is awaited. */
  add<T>(value: T, release: (value: T) => unknown): T {
    this.stack.push(() => release(value));
    return value;
  }

  async release(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.stack.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }
}

/** Stops a node (SIGTERM, then SIGKILL if it hangs) and deletes its data directory. */
export async function stopNode(node: TestServer): Promise<void> {
  if (alive(node)) {
    const stopped = node.stop();
    const hung = await Promise.race([stopped.then(() => false), sleep(15_000).then(() => true)]);
    if (hung) await node.kill();
  }
  node.cleanup();
}

/** POST /api/push with a caller-chosen id, so a push whose answer was lost can still be recognised. */
export function pushId(url: string, id: string, userIds: string[], data: unknown = null): Promise<HttpResult> {
  return push(url, { id, tokens: userIds, entityType: 'cluster', data });
}

/** GET /readyz with the push key, so the answer carries its checks. */
export async function readyz(node: TestServer): Promise<HttpResult> {
  return request(node.url, '/readyz', { headers: { authorization: `Bearer ${TEST_PUSH_KEY}` } });
}

/**
 * Waits (bounded) until the node says it is ready: database answering and, when
 * clustered, both Redis connections up. Pushes made before that may be counted
 * against this node's sockets only.
 */
export async function waitReady(node: TestServer, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: HttpResult | undefined;
  while (Date.now() < deadline) {
    last = await readyz(node).catch(() => undefined);
    if (last?.status === 200) return;
    await sleep(50);
  }
  throw new Error(`node ${node.url} not ready after ${timeoutMs} ms: ${JSON.stringify(last?.body)}\n${node.logs.slice(-20).join('\n')}`);
}

/**
 * Starts these nodes at once, each stopped when `resources` is released (those
 * that started, even when another failed), and waits until every one is ready.
 */
export async function startNodes(resources: Resources, nodes: NodeOptions[]): Promise<ClusterNode[]> {
  const started = await Promise.allSettled(nodes.map((opts) => startNode(opts)));
  for (const r of started) if (r.status === 'fulfilled') resources.add(r.value, stopNode);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const ready = started.map((r) => (r as PromiseFulfilledResult<ClusterNode>).value);
  await Promise.all(ready.map((node) => waitReady(node)));
  return ready;
}

/**
 * Two nodes, `<name>-a` and `<name>-b`, sharing a private redis-server and a
 * fresh PostgreSQL schema (`schemaPrefix`), all released with `resources`.
 * `opts` is what both started with, for a test that adds a node.
 */
export async function startPair(
  resources: Resources,
  name: string,
  extra: { schemaPrefix?: string; env?: Record<string, string | undefined> } = {},
): Promise<{ a: ClusterNode; b: ClusterNode; opts: Omit<NodeOptions, 'name'> }> {
  const redis = resources.add(await startRedis(), (r) => r.stop());
  const schema = resources.add(await freshSchema(extra.schemaPrefix), (s) => s.drop());
  const opts = { databaseUrl: schema.databaseUrl, schema: schema.name, redisUrl: redis.url, ...(extra.env ? { env: extra.env } : {}) };
  const [a, b] = await startNodes(resources, [{ name: `${name}-a`, ...opts }, { name: `${name}-b`, ...opts }]);
  return { a: a as ClusterNode, b: b as ClusterNode, opts };
}

export const token = tokenFor;

export interface Tally {
  /** Accepted (202) notifications meant for this client. */
  sent: number;
  /** How many of those it received at least once. */
  delivered: number;
  /** Receipts beyond the first of the same id. */
  duplicated: number;
  /** Receipts whose seq is not above the previous receipt's. */
  reordered: number;
  /** Ids it received that were never accepted (nor in doubt). */
  unexpected: number;
}

/**
 * What a client received, measured against what was accepted for it. `inDoubt`
 * are pushes whose answer never came (the node died mid-request): they may or
 * may not have been stored, so receiving one is not "unexpected" (but a second
 * copy is still a duplicate).
 */
export function tally(sent: readonly string[], received: readonly WireNotification[], inDoubt: readonly string[] = []): Tally {
  const accepted = new Set(sent);
  const doubtful = new Set(inDoubt);
  const counts = new Map<string, number>();
  for (const n of received) counts.set(n.id, (counts.get(n.id) ?? 0) + 1);
  let reordered = 0;
  for (let i = 1; i < received.length; i++) if (received[i]!.seq <= received[i - 1]!.seq) reordered++;
  let duplicated = 0;
  for (const c of counts.values()) duplicated += c - 1;
  return {
    sent: accepted.size,
    delivered: [...accepted].filter((id) => counts.has(id)).length,
    duplicated,
    reordered,
    unexpected: [...counts.keys()].filter((id) => !accepted.has(id) && !doubtful.has(id)).length,
  };
}

/** The tally a client must end with: everything accepted, once, in order. */
export const exactlyOnceInOrder = (sent: readonly string[]): Tally => ({
  sent: new Set(sent).size,
  delivered: new Set(sent).size,
  duplicated: 0,
  reordered: 0,
  unexpected: 0,
});

/** Whether a received notification came from a catch-up replay rather than live. */
export const isReplay = (n: WireNotification): boolean => (n as { replay?: unknown }).replay === true;

/** Live receipts only (the catch-up after a reconnect or a Redis outage is flagged `replay`). */
export const liveOf = (client: ConnectedClient): WireNotification[] => client.received.filter((n) => !isReplay(n));

/** The highest seq a client has seen (what it sends as `lastSeq` when reconnecting). */
export const highestSeq = (received: readonly WireNotification[]): number => received.reduce((m, n) => Math.max(m, n.seq), 0);
