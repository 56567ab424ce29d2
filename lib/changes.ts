import 'server-only';
import type { NotificationPatch, NotificationChanged } from './contract';
import type { Inbox, RemoveResult } from './inbox/types';
import type { Logger } from './log';
import type { Realtime } from './realtime';

/** How often each node looks for notifications past their `expiresAt`. */
const EXPIRY_INTERVAL_MS = 1_000;
/** Notifications expired per look; more wait for the next. */
const EXPIRY_BATCH = 500;

/**
 * Changes to notifications users already hold, stored first and then sent to
 * every tab of every user they touch: `PATCH` (update), `DELETE` (retract),
 * and expiry, which each node looks for every second (in a cluster, the store
 * hands each expired notification to one node).
 */
export interface ChangeService {
  /** Null for an unknown id. */
  update(id: string, patch: NotificationPatch): Promise<NotificationChanged | null>;
  /** Null for an unknown id, or when no one (or not `userId`) holds it any more. */
  retract(id: string, userId?: string): Promise<NotificationChanged | null>;
  /** Expires what is due now; resolves with how many notifications it removed. */
  expireDue(now?: number): Promise<number>;
  stop(): void;
}

export function createChangeService(deps: { inbox: Inbox; realtime: Realtime; log: Logger }): ChangeService {
  const { inbox, realtime, log } = deps;

  const announceRemoval = (removed: RemoveResult, reason: 'retracted' | 'expired'): void => {
    // Per user: each gets their own unread count with it.
    for (const { userId, unread } of removed.users) {
      realtime.emitChange('notification:remove', { seq: removed.seq, ids: [removed.id], reason, unread }, [userId]);
    }
  };

  const expireDue = async (now = Date.now()): Promise<number> => {
    const removed = await inbox.expireDue(now, EXPIRY_BATCH);
    for (const r of removed) announceRemoval(r, 'expired');
    return removed.length;
  };

  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    expireDue()
      .catch((err: unknown) => log.warn('expiry failed; retrying', { err }))
      .finally(() => (running = false));
  }, EXPIRY_INTERVAL_MS);
  timer.unref();

  return {
    async update(id, patch) {
      const result = await inbox.update(id, patch);
      if (!result) return null;
      const update = { seq: result.seq, ...result.notification };
      // A holder whose count the new type moves gets it with the update; everyone else gets one broadcast.
      const recounted = new Map(result.recounted.map((r) => [r.userId, r.unread]));
      realtime.emitChange('notification:update', update, result.userIds.filter((u) => !recounted.has(u)));
      for (const [userId, unread] of recounted) realtime.emitChange('notification:update', { ...update, unread }, [userId]);
      return { id, recipients: result.userIds.length };
    },
    async retract(id, userId) {
      const removed = await inbox.retract(id, userId);
      if (!removed || removed.users.length === 0) return null;
      announceRemoval(removed, 'retracted');
      return { id, recipients: removed.users.length };
    },
    expireDue,
    stop: () => clearInterval(timer),
  };
}
