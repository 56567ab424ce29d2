import { setTimeout as sleep } from 'node:timers/promises';
import { roomOf } from '../protocol';
import { clearGate, holdDeliveries, isHolding, noteCaughtUp, noteReplayed, releaseDeliveries, takeOutage } from './gate';
import type { HeraldSocket, RealtimeDeps } from './types';

/**
 * Binds a socket to its user and brings it up to date: joins the user room with
 * live delivery held, replays everything after `lastSeq` in order, then opens
 * the gate. Without `lastSeq` (a first visit) nothing is replayed: the client
 * loads the first inbox page instead.
 */
export async function bindAndCatchUp(
  socket: HeraldSocket,
  userId: string,
  lastSeq: number | undefined,
  { inbox, config, log }: RealtimeDeps,
): Promise<void> {
  holdDeliveries(socket);
  await socket.join(roomOf(userId));
  let replayedUpTo = 0;
  let replayed = 0;
  /** Where the socket stands after catch-up (see noteCaughtUp); undefined: a first visit, the head. */
  let caughtUpTo: number | undefined;
  try {
    if (lastSeq !== undefined) {
      const since = await inbox.since(userId, lastSeq, config.inbox.maxPerUser);
      if (since.reset) {
        socket.emit('sync_reset', { headSeq: since.headSeq });
        caughtUpTo = since.headSeq;
      } else {
        for (const n of since.items) {
          socket.emit('receive_message', { ...n, replay: true });
          noteReplayed(socket, n.seq);
        }
        replayed = since.items.length;
        replayedUpTo = since.items.at(-1)?.seq ?? lastSeq;
        caughtUpTo = replayedUpTo;
      }
    }
    const summary = await inbox.summary(userId);
    // The socket may have gone, or re-bound to another user, while we awaited.
    if (!socket.connected || socket.data.userId !== userId) return;
    socket.emit('notifications:synced', { replayed, unread: summary.unread, headSeq: summary.headSeq, serverTime: Date.now() });
    // A first visit (and a reset) loads the inbox page for what is at or below the head it
    // was told: live copies of those would arrive twice, so the gate drops them too.
    const standsAt = caughtUpTo ?? summary.headSeq;
    noteCaughtUp(socket, standsAt);
    releaseDeliveries(socket, Math.max(replayedUpTo, standsAt));
  } catch (err) {
    log.error('catch-up failed', { userId, err });
    releaseDeliveries(socket, replayedUpTo);
    // The client reconnects (and catches up) after a server-side disconnect.
    socket.disconnect(true);
  }
}

/** How long a resync waits for a running catch-up: 50 × 100 ms. */
const RESYNC_WAIT_STEPS = 50;
const RESYNC_WAIT_STEP_MS = 100;

/**
 * After the fan-out link (Redis) was down: replays from the inbox what this
 * socket did not get while it was, without repeating what it did get (its own
 * node's pushes kept flowing). Replayed items carry `replay: true`.
 */
export async function resyncAfterOutage(socket: HeraldSocket, { inbox, config, log }: RealtimeDeps): Promise<void> {
  // A catch-up still running owns the held list: let it finish first (bounded), then resync.
  for (let i = 0; i < RESYNC_WAIT_STEPS && isHolding(socket); i++) await sleep(RESYNC_WAIT_STEP_MS);
  if (isHolding(socket)) {
    log.warn('resync skipped: catch-up still running; the client catches up on its next reconnect', { userId: socket.data.userId });
    return;
  }
  const outage = takeOutage(socket);
  if (!outage || !socket.connected) return;
  const { userId } = socket.data;
  holdDeliveries(socket);
  let replayedUpTo = 0;
  try {
    const since = await inbox.since(userId, outage.from, config.inbox.maxPerUser);
    if (since.reset) {
      socket.emit('sync_reset', { headSeq: since.headSeq });
    } else {
      for (const n of since.items) {
        if (outage.delivered.has(n.seq)) continue;
        socket.emit('receive_message', { ...n, replay: true });
        noteReplayed(socket, n.seq);
      }
      replayedUpTo = since.items.at(-1)?.seq ?? 0;
    }
    releaseDeliveries(socket, replayedUpTo);
  } catch (err) {
    log.error('resync failed; the client will catch up on reconnect', { userId, err });
    releaseDeliveries(socket, replayedUpTo);
    socket.disconnect(true);
  }
}

/** Undoes a binding (legacy re-login as another user). */
export async function unbind(socket: HeraldSocket, userId: string): Promise<void> {
  clearGate(socket);
  await socket.leave(roomOf(userId));
}
