import 'server-only';
import { RefusedError } from '../../errors';
import { DEFAULT_PAGE_LIMIT, ErrorCodes, type ReadState } from '../../contract';
import { ArchiveRequestSchema, ListRequestSchema, NoPayloadSchema, PreferencesRequestSchema, ReadRequestSchema, ReceivedRequestSchema, SeenRequestSchema } from '../../validate';
import { announcePreferences, preferencesState } from '../preferences';
import { roomOf } from '../rooms';
import type { HeraldServer, HeraldSocket, RealtimeDeps } from '../types';
import { acked } from './ack';

/**
 * History paging, read state and receipts, for the user the socket is bound to:
 * a receipt names seqs and ids, and only the socket's own user's rows match
 * them, so a forged one changes nobody else's. The
 * listeners are made once per server; the function returned adds them to a socket.
 */
export function notificationHandlers(io: HeraldServer, { inbox, log }: RealtimeDeps): (socket: HeraldSocket) => void {
  // Every tab of the user learns the new read state, on every node.
  const broadcastState = (userId: string, state: ReadState): ReadState => {
    io.to(roomOf(userId)).emit('notifications:state', state);
    return state;
  };
  const list = acked(ListRequestSchema, log, (socket, req) =>
    inbox.list(socket.data.userId, { before: req.before, limit: req.limit ?? DEFAULT_PAGE_LIMIT, view: req.view ?? 'all' }),
  );
  const archive = acked(ArchiveRequestSchema, log, async (socket, req) => {
    const { userId } = socket.data;
    const state = await inbox.archive(userId, [...new Set(req.ids)], req.archived ?? true);
    if (state.ids.length > 0) io.to(roomOf(userId)).emit('notifications:archived', state);
    return state;
  });
  const preferences = acked(PreferencesRequestSchema, log, async (socket, req) => {
    const { userId } = socket.data;
    if (req === undefined || !('mutedTypes' in req)) return preferencesState(inbox, userId, await inbox.preferences(userId));
    const prefs = await inbox.setPreferences(userId, { mutedTypes: [...new Set(req.mutedTypes)] });
    return announcePreferences(io, inbox, userId, prefs);
  });
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
  const received = acked(ReceivedRequestSchema, log, async (socket, req) => {
    const change = await inbox.markReceived(socket.data.userId, req.upTo);
    if (change.beyondHead) throw new RefusedError(ErrorCodes.validationFailed, 'upTo: above the newest notification you have');
    return { changed: change.changed.length };
  });
  const seen = acked(SeenRequestSchema, log, async (socket, req) => {
    const change = await inbox.markSeen(socket.data.userId, [...new Set(req.ids)]);
    return { changed: change.changed.length };
  });
  return (socket) => {
    socket.on('notifications:received', received);
    socket.on('notifications:seen', seen);
    socket.on('notifications:list', list);
    socket.on('notifications:read', read);
    socket.on('notifications:unread', unread);
    socket.on('notifications:read-all', readAll);
    socket.on('notifications:archive', archive);
    socket.on('notifications:preferences', preferences);
  };
}
