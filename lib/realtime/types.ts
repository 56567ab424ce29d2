import 'server-only';
import type { Server, Socket } from 'socket.io';
import type { Config } from '../config';
import type { Inbox } from '../inbox/types';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
type InterServerEvents = {};

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
