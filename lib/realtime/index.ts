import 'server-only';
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { ErrorCodes, type ChangeEvent, type ServerToClientEvents, type WireNotification } from '../contract';
import { roomOf, USER_ROOM_PREFIX } from './rooms';
import { bindAndCatchUp, resyncAfterOutage } from './catchup';
import { connectCluster, type ClusterLink } from './cluster';
import { OutboundLimits, type OutboundStats } from './backlog';
import { DeliveryAdapter, setDeliverySettings } from './delivery';
import { beginOutage, clearGate } from './gate';
import { setWireLogger } from './wire';
import { Admission } from './admission';
import { EngineAddressCap, expireTokens, limitEventRate, originGuard, refreshHandler, refuseHandshakes } from './guard';
import { authenticate, lastSeqOf } from './handshake';
import { legacyHandlers } from './handlers/legacy';
import { notificationHandlers } from './handlers/notifications';
import { LocalPresence, roomsOf, type Presence } from './presence';
import type { HeraldServer, HeraldSocket, RealtimeDeps } from './types';

export type { HeraldServer } from './types';

/** Largest frame a client may send. Browsers send small acks and id lists (at most 200 ids); 1 MB (the default) invites abuse. */
const MAX_CLIENT_FRAME_BYTES = 32 * 1024;

export interface Realtime {
  io: HeraldServer;
  /** One emit to every recipient's room: the payload is encoded once whatever the count. */
  deliver(notification: WireNotification, userIds: string[]): void;
  /** A change to what these users hold, through the delivery gate (held during a tab's catch-up, then sent). */
  emitChange<E extends ChangeEvent>(event: E, payload: Parameters<ServerToClientEvents[E]>[0], userIds: string[]): void;
  /** How many of these users have at least one live socket (cluster-wide when clustered). */
  onlineCount(userIds: string[]): number;
  connections: () => number;
  /** Unread bytes queued for clients, and the sockets cut off for them. */
  outbound: () => Readonly<OutboundStats>;
  /** The fan-out link: `undefined` when embedded (no Redis). */
  cluster: Pick<ClusterLink, 'healthy' | 'claimOnce' | 'adminBoard'> | undefined;
  close(): Promise<void>;
}

export function attachRealtime(httpServer: HttpServer, deps: RealtimeDeps): Realtime {
  const { config, log } = deps;
  const cluster = config.redisUrl ? connectCluster(config.redisUrl, config.nodeId, log) : undefined;
  const engineCap = new EngineAddressCap(config.limits.connectionsPerIp * 2, log);
  const admission = new Admission(config.limits);
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
    adapter: cluster ? cluster.adapter : DeliveryAdapter,
  });
  setWireLogger(log);
  const { metrics } = deps;
  const outbound = new OutboundLimits(config.limits.clientQueueBytes, config.limits.queuedBytes, log, (cap) => metrics.slowConsumers.inc({ cap }));
  setDeliverySettings(io, {
    limits: outbound,
    delivered(sockets, lagMs) {
      metrics.deliveries.inc({ path: 'live' }, sockets);
      metrics.deliveryLag.observe(Math.max(0, lagMs) / 1000);
    },
  });
  outbound.start(io);
  // The handshake checks, answered with Herald's error envelope (guard.ts).
  const refused = (code: string) => {
    metrics.refused.inc({ code });
    if (code === ErrorCodes.rateLimited) metrics.rateLimited.inc({ limit: 'handshake' });
  };
  io.engine.use(refuseHandshakes(originGuard(config.allowedOrigins, log), engineCap.guard, refused));
  io.engine.on('connection', (conn: Parameters<EngineAddressCap['track']>[0]) => engineCap.track(conn));
  const adapter = io.of('/').adapter;
  io.use(observed(authenticate(deps), refused));
  // Last: a socket counts toward its caps once every other check has passed.
  io.use(observed(admission.middleware, refused));
  metrics.sources.sockets = () => io.engine.clientsCount;
  metrics.sources.users = () => countUsers(adapter.rooms);
  metrics.sources.queuedBytes = () => outbound.stats.queuedBytes;
  const stopExpiry = expireTokens(io);

  // Presence reads this node's counts from the adapter's user rooms; a change is
  // announced whatever path joined or left (bind, re-bind, disconnect).
  const local = roomsOf(adapter.rooms, USER_ROOM_PREFIX);
  const presence: Presence = cluster ? cluster.presenceFor(local) : new LocalPresence(local);
  const announce = (room: string) => {
    if (room.startsWith(USER_ROOM_PREFIX)) presence.changed(room.slice(USER_ROOM_PREFIX.length));
  };
  adapter.on('join-room', announce);
  adapter.on('leave-room', announce);

  if (cluster) {
    cluster.onOutage(() => {
      for (const socket of io.of('/').sockets.values()) beginOutage(socket);
    });
    cluster.onRecovery(() => {
      for (const socket of io.of('/').sockets.values()) void resyncAfterOutage(socket, deps);
    });
  }

  // Event listeners are made once here and shared by every socket, which each
  // reaches as `this`: a socket then carries no closures of its own.
  const addRefresh = refreshHandler(deps);
  const addNotificationHandlers = notificationHandlers(io, deps);
  const addLegacyHandlers = legacyHandlers(deps, admission);
  function onDisconnect(this: HeraldSocket, reason: string): void {
    metrics.disconnects.inc({ reason });
    admission.release(this);
    clearGate(this);
    log.debug('socket disconnected', { userId: this.data.userId, sid: this.id, reason });
  }

  io.on('connection', (socket) => {
    const { userId } = socket.data;
    log.debug('socket connected', { userId, sid: socket.id, transport: socket.conn.transport.name });
    metrics.connects.inc();
    limitEventRate(socket, deps);
    addRefresh(socket);
    addNotificationHandlers(socket);
    addLegacyHandlers(socket);
    socket.on('disconnect', onDisconnect);
    // A socket that connects during an outage is caught up from the inbox, but
    // will miss other nodes' pushes until the link returns: count it in.
    if (cluster && !cluster.healthy()) beginOutage(socket);
    void bindAndCatchUp(socket, userId, lastSeqOf(socket), deps);
  });

  return {
    io,
    deliver(notification, userIds) {
      io.to(userIds.map(roomOf)).emit('receive_message', notification);
    },
    emitChange(event, payload, userIds) {
      if (userIds.length === 0) return;
      // socket.io's typed emit cannot narrow a generic event name; the signature above holds the pair together.
      (io.to(userIds.map(roomOf)) as { emit(event: string, payload: unknown): boolean }).emit(event, payload);
    },
    onlineCount: (userIds) => presence.online(userIds),
    connections: () => io.engine.clientsCount,
    outbound: () => outbound.stats,
    cluster,
    async close() {
      stopExpiry();
      outbound.stop();
      io.disconnectSockets(true);
      // io.close() also closes the HTTP server; the caller owns that, so close the engine only.
      io.engine.close();
      await presence.close();
      await cluster?.close();
    },
  };
}

type Middleware = (socket: HeraldSocket, next: (err?: Error) => void) => void;

/** A socket.io middleware whose refusals are also reported, by their code. */
function observed(middleware: Middleware, refused: (code: string) => void): Middleware {
  return (socket, next) =>
    middleware(socket, (err) => {
      if (err) refused(err.message);
      next(err);
    });
}

/** Users with at least one socket in this node's rooms. */
function countUsers(rooms: Map<string, Set<string>>): number {
  let n = 0;
  for (const [room, sockets] of rooms) if (sockets.size > 0 && room.startsWith(USER_ROOM_PREFIX)) n++;
  return n;
}
