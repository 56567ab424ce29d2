import 'server-only';
import { DEFAULT_PAGE_LIMIT, type ReadState } from '../../contract';
import { ListRequestSchema, NoPayloadSchema, ReadRequestSchema } from '../../validate';
import { roomOf } from '../rooms';
import type { HeraldServer, HeraldSocket, RealtimeDeps } from '../types';
import { acked } from './ack';

/**
 * History paging and read state, for the user the socket is bound to. The
 * listeners are made once per server; the function returned adds them to a socket.
 */
export function notificationHandlers(io: HeraldServer, { inbox, log }: RealtimeDeps): (socket: HeraldSocket) => void {
  // Every tab of the user learns the new read state, on every node.
  const broadcastState = (userId: string, state: ReadState): ReadState => {
    io.to(roomOf(userId)).emit('notifications:state', state);
    return state;
  };
  const list = acked(ListRequestSchema, log, (socket, req) =>
    inbox.list(socket.data.userId, { before: req.before, limit: req.limit ?? DEFAULT_PAGE_LIMIT }),
  );
  const read = acked(ReadRequestSchema, log, async (socket, req) => {
    const { userId } = socket.data;
    const state = await inbox.markRead(userId, [...new Set(req.ids)]);
    return state.readIds.length > 0 ? broadcastState(userId, state) : state;
  });
  const unread = acked(ReadRequestSchema, log, async (socket, req) => {
    const { userId } = socket.data;
    const state = await inbox.markUnread(userId, [...new Set(req.ids)]);
    return (state.unreadIds?.length ?? 0) > 0 ? broadcastState(userId, state) : state;
  });
  const readAll = acked(NoPayloadSchema, log, async (socket) => {
    const { userId } = socket.data;
    return broadcastState(userId, await inbox.markAllRead(userId));
  });
  return (socket) => {
    socket.on('notifications:list', list);
    socket.on('notifications:read', read);
    socket.on('notifications:unread', unread);
    socket.on('notifications:read-all', readAll);
  };
}
