import 'server-only';
import type { Server, Socket } from 'socket.io';
import type { Config } from '../config';
import type { Inbox } from '../inbox/types';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { AdminSocket, ClientToServerEvents, ServerToClientEvents } from '../contract';

/** Between the nodes of a cluster (socket.io's server-side events over the Redis adapter). */
type InterServerEvents = {
  /** The admin view's user lookup: each node answers with its own sockets of the user. */
  'admin:sockets': (userId: string, ack: (sockets: AdminSocket[]) => void) => void;
};

/** What Herald keeps on each socket. */
export interface SocketData {
  userId: string;
  /** Expiry of the token that bound the socket, seconds since the epoch. */
  exp: number;
}

export type HeraldServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type HeraldSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface RealtimeDeps {
  config: Config;
  inbox: Inbox;
  log: Logger;
  metrics: Metrics;
}
