import 'server-only';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkPushKey } from '../auth';
import type { Inbox } from '../inbox/types';
import { wireStats } from '../realtime/wire';
import { orAfter } from '../timeout';
import { sendJson } from './respond';

/** How long /readyz waits for the database's answer to a ping. */
const PING_TIMEOUT_MS = 1_000;

/** What the probes read. */
export interface HealthDeps {
  inbox: Pick<Inbox, 'ping' | 'kind' | 'backlog'> & { writeFailure(): string | undefined };
  /** The fan-out link's health, when clustered. */
  redisHealthy: (() => boolean) | undefined;
  connections(): number;
  outbound(): { queuedBytes: number; slowConsumers: number; processCapCuts: number };
  /** False once shutdown began: readiness turns off so balancers drain this node. */
  accepting(): boolean;
  nodeId: string;
  /** Keys that see the checks: the push key and the metrics token (undefined entries are skipped; none set: open). */
  operatorKeys: Array<string | undefined>;
  startedAt: number;
  /** The webhook outbox's counts, when webhooks are on (failed batches do not make the node unready). */
  webhooks: (() => Promise<{ events: number; pending: number; failed: number }>) | undefined;
}

/**
 * /healthz says the process is up; /readyz says this node should get traffic:
 * Next prepared, socket.io attached, the database (and Redis, when clustered)
 * answering, not shutting down. Served before Next so a probe never waits on
 * page rendering.
 *
 * Anyone gets the status (200 or 503, `{ status }`): a load balancer needs no
 * more. The checks (node id, dependencies, counts) are for operators, who send
 * the push key or the metrics token as a bearer.
 */
export function healthHandler(deps: HealthDeps): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = healthPath(req.url);
    if (path === undefined) return false;
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok', uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000) });
      return true;
    }
    let database: { ok: boolean; kind: string; backlog?: number; error?: string };
    try {
      // A database that holds the connection open and never answers is as down as one that refuses it.
      const answered = await orAfter(deps.inbox.ping().then(() => true), PING_TIMEOUT_MS, false);
      if (!answered) throw new Error(`no answer within ${PING_TIMEOUT_MS} ms`);
      const failing = deps.inbox.writeFailure();
      if (failing !== undefined) throw new Error(`writes are failing: ${failing}`);
      // backlog: deliveries stored in the fan-out log, not yet merged into per-user rows (SQLite).
      database = { ok: true, kind: deps.inbox.kind, ...(deps.inbox.backlog ? { backlog: deps.inbox.backlog() } : {}) };
    } catch (err) {
      database = { ok: false, kind: deps.inbox.kind, error: (err as Error).message };
    }
    const redisUp = deps.redisHealthy?.();
    const redis = redisUp === undefined ? undefined : { ok: redisUp, ...(redisUp ? {} : { error: 'redis is unreachable' }) };
    const accepting = deps.accepting();
    const ready = accepting && database.ok && (redis?.ok ?? true);
    if (!isOperator(req.headers.authorization, deps.operatorKeys)) {
      sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unready' });
      return true;
    }
    // Failed batches wait for POST /api/webhooks/retry; they say nothing about this node's health.
    const webhooks = deps.webhooks
      ? await orAfter(
          deps.webhooks().then((counts) => ({ ok: true, ...counts })),
          PING_TIMEOUT_MS,
          { ok: false, error: `no answer within ${PING_TIMEOUT_MS} ms` },
        ).catch((err: unknown) => ({ ok: false, error: (err as Error).message }))
      : undefined;
    sendJson(res, ready ? 200 : 503, {
      status: ready ? 'ready' : 'unready',
      accepting,
      node: deps.nodeId,
      checks: {
        // "database" names what backs the inbox: sqlite (embedded) or postgres.
        database,
        ...(redis ? { redis } : {}),
        // frames: notification frames this node wrote to WebSocket connections itself (realtime/wire.ts).
        // outbound: unread bytes queued for clients at the last sweep, and sockets cut off for them (realtime/backlog.ts).
        realtime: { ok: true, connections: deps.connections(), frames: wireStats(), outbound: deps.outbound() },
        // events not batched yet, batches pending, batches failed (resent by POST /api/webhooks/retry).
        ...(webhooks ? { webhooks } : {}),
      },
    });
    return true;
  };
}

/**
 * '/healthz' or '/readyz' when the URL names one (a query string is ignored),
 * else undefined. Synchronous and allocation-free for every other URL: it runs
 * before each request, pushes included.
 */
export function healthPath(url: string | undefined): '/healthz' | '/readyz' | undefined {
  if (url === undefined || !(url.startsWith('/healthz') || url.startsWith('/readyz'))) return undefined;
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path === '/healthz' || path === '/readyz' ? path : undefined;
}

/** The push key or the metrics token; with neither configured (development), anyone. */
function isOperator(authorization: string | undefined, keys: Array<string | undefined>): boolean {
  const set = keys.filter((k): k is string => k !== undefined);
  if (set.length === 0) return true;
  return set.some((key) => checkPushKey(authorization, key));
}
