import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { roomOf, type WireNotification } from '../protocol';
import { bindAndCatchUp } from './catchup';
import { clearGate, installDeliveryGate } from './gate';
import { authenticate, lastSeqOf } from './handshake';
import { registerLegacyHandlers } from './handlers/legacy';
import { registerNotificationHandlers } from './handlers/notifications';
import type { HeraldServer, RealtimeDeps } from './types';

export type { HeraldServer } from './types';

/** Largest frame a client may send. Browsers send small acks and id lists; 1 MB (the default) invites abuse. */
const MAX_CLIENT_FRAME_BYTES = 100_000;

export interface Realtime {
  io: HeraldServer;
  /** One emit to every recipient's room: the payload is encoded once whatever the count. */
  deliver(notification: WireNotification, userIds: string[]): void;
  /** How many of these users have at least one live socket. */
  onlineCount(userIds: string[]): number;
  connections(): number;
  close(): Promise<void>;
}

export function attachRealtime(httpServer: HttpServer, deps: RealtimeDeps): Realtime {
  const { config, log } = deps;
  const io: HeraldServer = new Server(httpServer, {
    path: config.socketPath,
    serveClient: false,
    maxHttpBufferSize: MAX_CLIENT_FRAME_BYTES,
    // Upgrades for other paths: in development Next's HMR socket owns some, so
    // they are not ours to destroy. Elsewhere nothing answers them, and Node
    // applies no timeout to an upgraded socket, so a stray upgrade (a client on
    // the wrong SOCKET_PATH, or a scanner) would hold its connection open
    // forever; engine.io ends any that nobody has answered within a second.
    destroyUpgrade: config.env !== 'development',
  });
  installDeliveryGate(io.of('/').adapter);
  io.use(authenticate(deps));

  io.on('connection', (socket) => {
    const { userId } = socket.data;
    log.debug('socket connected', { userId, sid: socket.id, transport: socket.conn.transport.name });
    registerNotificationHandlers(io, socket, deps);
    registerLegacyHandlers(socket, deps);
    socket.on('disconnect', (reason) => {
      clearGate(socket);
      log.debug('socket disconnected', { userId: socket.data.userId, sid: socket.id, reason });
    });
    void bindAndCatchUp(socket, userId, lastSeqOf(socket), deps);
  });

  const rooms = io.of('/').adapter.rooms;
  return {
    io,
    deliver(notification, userIds) {
      io.to(userIds.map(roomOf)).emit('receive_message', notification);
    },
    onlineCount(userIds) {
      let online = 0;
      for (const id of userIds) if ((rooms.get(roomOf(id))?.size ?? 0) > 0) online++;
      return online;
    },
    connections: () => io.engine.clientsCount,
    close: () =>
      new Promise<void>((resolve) => {
        io.disconnectSockets(true);
        // io.close() also closes the HTTP server; the caller owns that, so close the engine only.
        io.engine.close();
        resolve();
      }),
  };
}
