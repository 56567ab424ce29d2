import { roomOf } from '../protocol';
import { clearGate, holdDeliveries, releaseDeliveries } from './gate';
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
  try {
    if (lastSeq !== undefined) {
      const since = await inbox.since(userId, lastSeq, config.inbox.maxPerUser);
      if (since.reset) {
        socket.emit('sync_reset', { headSeq: since.headSeq });
      } else {
        for (const n of since.items) socket.emit('receive_message', { ...n, replay: true });
        replayed = since.items.length;
        replayedUpTo = since.items.at(-1)?.seq ?? lastSeq;
      }
    }
    const summary = await inbox.summary(userId);
    // The socket may have gone, or re-bound to another user, while we awaited.
    if (!socket.connected || socket.data.userId !== userId) return;
    socket.emit('notifications:synced', { replayed, unread: summary.unread, headSeq: summary.headSeq });
    releaseDeliveries(socket, replayedUpTo);
  } catch (err) {
    log.error('catch-up failed', { userId, err });
    // Live delivery still works; the client will try again on its next reconnect.
    releaseDeliveries(socket, replayedUpTo);
    socket.disconnect(true);
  }
}

/** Undoes a binding (legacy re-login as another user). */
export async function unbind(socket: HeraldSocket, userId: string): Promise<void> {
  clearGate(socket);
  await socket.leave(roomOf(userId));
}
