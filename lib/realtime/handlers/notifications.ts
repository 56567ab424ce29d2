import { z } from 'zod';
import { DEFAULT_PAGE_LIMIT, ListRequestSchema, ReadRequestSchema, roomOf, type ReadState } from '../../protocol';
import type { HeraldServer, HeraldSocket, RealtimeDeps } from '../types';
import { acked } from './ack';

/** History paging and read state, for the user the socket is bound to. */
export function registerNotificationHandlers(io: HeraldServer, socket: HeraldSocket, deps: RealtimeDeps): void {
  const { inbox, log } = deps;
  // Every tab of the user learns the new read state, on every node.
  const broadcastState = (state: ReadState): ReadState => {
    io.to(roomOf(socket.data.userId)).emit('notifications:state', state);
    return state;
  };

  socket.on(
    'notifications:list',
    acked(ListRequestSchema, log, (req) =>
      inbox.list(socket.data.userId, { before: req.before, limit: req.limit ?? DEFAULT_PAGE_LIMIT }),
    ),
  );

  socket.on(
    'notifications:read',
    acked(ReadRequestSchema, log, async (req) => {
      const state = await inbox.markRead(socket.data.userId, [...new Set(req.ids)]);
      return state.readIds.length > 0 ? broadcastState(state) : state;
    }),
  );

  // read-all takes no payload (acked finds the ack wherever it is).
  socket.on(
    'notifications:read-all',
    acked(z.undefined(), log, async () => broadcastState(await inbox.markAllRead(socket.data.userId))),
  );
}
