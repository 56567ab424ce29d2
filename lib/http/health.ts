import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkPushKey } from '../auth';
import { wireStats } from '../realtime/wire';
import type { HeraldRuntime } from '../runtime';
import { sendJson } from './respond';

/**
 * /healthz says the process is up; /readyz says this node should get traffic:
 * Next prepared, socket.io attached, the database (and Redis, when clustered)
 * answering, not shutting down.
 * Served before Next so a probe never waits on page rendering.
 *
 * Anyone gets the status (200 or 503, `{ status }`): a load balancer needs no
 * more. The checks (node id, dependencies, counts) are for operators, who send
 * the push key as for the push API.
 */
export async function handleHealth(req: IncomingMessage, res: ServerResponse, runtime: HeraldRuntime): Promise<boolean> {
  const path = healthPath(req.url);
  if (path === undefined) return false;
  if (path === '/healthz') {
    sendJson(res, 200, { status: 'ok', uptimeSeconds: Math.round((Date.now() - runtime.startedAt) / 1000) });
    return true;
  }
  let inbox: { ok: boolean; kind: string; backlog?: number; error?: string };
  try {
    await runtime.inbox.ping();
    // backlog: deliveries stored in the fan-out log, not yet merged into per-user rows (SQLite).
    inbox = { ok: true, kind: runtime.inbox.kind, ...(runtime.inbox.backlog ? { backlog: runtime.inbox.backlog() } : {}) };
  } catch (err) {
    inbox = { ok: false, kind: runtime.inbox.kind, error: (err as Error).message };
  }
  const cluster = runtime.realtime.cluster;
  const redis = cluster ? { ok: cluster.healthy(), ...(cluster.healthy() ? {} : { error: 'redis is unreachable' }) } : undefined;
  const ready = runtime.accepting && inbox.ok && (redis?.ok ?? true);
  if (!checkPushKey(req.headers.authorization, runtime.config.pushApiKey)) {
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unready' });
    return true;
  }
  sendJson(res, ready ? 200 : 503, {
    status: ready ? 'ready' : 'unready',
    accepting: runtime.accepting,
    node: runtime.config.nodeId,
    checks: {
      // "database" names what backs the inbox: sqlite (embedded) or postgres.
      database: inbox,
      ...(redis ? { redis } : {}),
      // frames: notification frames this node wrote to WebSocket connections itself (realtime/wire.ts).
      realtime: { ok: true, connections: runtime.realtime.connections(), frames: wireStats() },
    },
  });
  return true;
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

