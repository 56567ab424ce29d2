import 'server-only';
import { createHash, randomUUID } from 'node:crypto';
import type { CollapseResult, Inbox } from './inbox/types';
import type { Logger } from './log';
import type { PushAccepted, PushRequest, WireNotification } from './contract';
import { actorOf } from './inbox/groups';
import type { Realtime } from './realtime';

/**
 * The push service: store, then fan out. A notification is acknowledged only
 * after it is committed, so a 202 means it survives a crash.
 */
export interface PushResult {
  body: PushAccepted;
  /** True when an idempotency key matched an earlier push: nothing new was delivered. */
  replayed: boolean;
}

export interface PushService {
  push(req: PushRequest, opts?: { idempotencyKey?: string }): Promise<PushResult>;
}

export function createPushService(deps: {
  inbox: Inbox;
  realtime: Realtime;
  log: Logger;
  /** Milliseconds per second of `escalate.after`: 1000, or less under the test-only HERALD_TEST_TIME_SCALE. */
  escalateMsPerSecond?: number;
}): PushService {
  const { inbox, realtime, log } = deps;
  const msPerSecond = deps.escalateMsPerSecond ?? 1000;
  // Concurrent pushes with one key on this node wait for the first, so all get its exact answer.
  const inflight = new Map<string, Promise<{ result: PushResult; request: PushRequest }>>();

  /**
   * A push with a collapse key replaces each recipient's unread item with that
   * key: each gets the notification with their own group, and the ids it
   * replaces, so a toast of the old one updates in place.
   */
  async function deliverCollapsed(n: WireNotification, userIds: string[], collapseKey: string, collapsed: CollapseResult['users'] | undefined): Promise<void> {
    const actor = actorOf(n.data);
    // The embedded store collapses in the push's own commit; PostgreSQL in a transaction of its own, now.
    const users = collapsed ?? (await inbox.collapse({ seq: n.seq, id: n.id, userIds, collapseKey, ...(actor !== undefined ? { actor } : {}) })).users;
    for (const { userId, group, replaces } of users) {
      realtime.deliver({ ...n, group, ...(replaces.length > 0 ? { replaces } : {}) }, [userId]);
    }
  }

  async function pushOnce(req: PushRequest, key: string | undefined): Promise<PushResult> {
    const id = req.id ?? randomUUID();
    const result = await inbox.append({
      id,
      userIds: req.userIds,
      entityType: req.entityType,
      data: req.data,
      createdAt: Date.now(),
      ...(key !== undefined ? { idempotency: { key, bodyHash: hashBody(req) } } : {}),
      ...(req.escalate ? { escalate: { afterMs: req.escalate.after * msPerSecond, unless: req.escalate.unless } } : {}),
      ...(req.collapseKey !== undefined ? { collapseKey: req.collapseKey } : {}),
      ...(req.expiresAt !== undefined ? { expiresAt: req.expiresAt } : {}),
      ...(req.priority ? { priority: req.priority } : {}),
    });
    if (result.status === 'duplicate') {
      const body = result.response ?? { id: result.id, recipients: result.recipients, online: realtime.onlineCount(req.userIds) };
      return { body, replayed: true };
    }
    if (req.collapseKey === undefined) realtime.deliver(result.notification, req.userIds);
    else await deliverCollapsed(result.notification, req.userIds, req.collapseKey, result.collapsed);
    const body: PushAccepted = { id, recipients: req.userIds.length, online: realtime.onlineCount(req.userIds) };
    if (key !== undefined) {
      // The push is already stored and delivered; failing to record the answer only
      // means a later replay recomputes `online`.
      await inbox.saveResponse(key, body).catch((err: unknown) => log.warn('could not record idempotent answer', { key, err }));
    }
    return { body, replayed: false };
  }

  return {
    async push(req, opts = {}) {
      const key = opts.idempotencyKey ?? req.id;
      if (key === undefined) return pushOnce(req, undefined);
      const running = inflight.get(key);
      if (running) {
        const first = await running.catch(() => undefined);
        // The first failed (or conflicted): this one is judged on its own.
        if (!first) return pushOnce(req, key);
        if (hashBody(req) !== hashBody(first.request)) return pushOnce(req, key);
        return { body: first.result.body, replayed: true };
      }
      const attempt = pushOnce(req, key).then((result) => ({ result, request: req }));
      inflight.set(key, attempt);
      try {
        return (await attempt).result;
      } finally {
        inflight.delete(key);
      }
    },
  };
}

/**
 * Pushes each request as `service.push` would, each keyed by its own id, all
 * handed over in one turn so that group commit stores them together. One
 * outcome per request, in order; a failure is that request's alone.
 */
export function pushMany(service: PushService, reqs: readonly PushRequest[]): Promise<Array<PromiseSettledResult<PushResult>>> {
  return Promise.allSettled(reqs.map((req) => service.push(req)));
}

/** What makes two pushes "the same" for idempotency. */
export function hashBody(req: PushRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([req.id ?? null, [...req.userIds].sort(), req.entityType, req.data, ...changeFieldsOf(req)]))
    .digest('base64url');
}

/**
 * The fields of a notification that changes, when a push has any: absent, the
 * hash is what it was before they existed, so keys stored then still match.
 * `expiresAt` is left out: from a `ttl` it differs on every retry.
 */
function changeFieldsOf(req: PushRequest): unknown[] {
  return req.collapseKey !== undefined || req.priority ? [req.collapseKey ?? null, req.priority ?? null] : [];
}
