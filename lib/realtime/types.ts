import type { Server, Socket } from 'socket.io';
import type { Config } from '../config';
import type { Inbox } from '../inbox/types';
import type { Logger } from '../log';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../protocol';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
type InterServerEvents = {};

export type HeraldServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type HeraldSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface RealtimeDeps {
  config: Config;
  inbox: Inbox;
  log: Logger;
}
