import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../tests/support/socket';
import { NOTIFICATION_EVENT } from '../contract';
import { DeliveryAdapter } from './delivery';
import { wireShape, wireStats } from './wire';

/**
 * Delivery through DeliveryAdapter (delivery.ts) and the direct frame path
 * (wire.ts), with a real socket.io server and real socket.io-client connections
 * on 127.0.0.1: what each client receives, in what order, and which path the
 * frames took.
 */

let http: HttpServer;
let io: Server;
let url: string;
const clients: ClientSocket[] = [];

beforeAll(async () => {
  http = createServer();
  io = new Server(http, { serveClient: false, adapter: DeliveryAdapter });
  io.on('connection', (socket) => {
    const user = (socket.handshake.auth as { user?: unknown }).user;
    if (typeof user === 'string') void socket.join(`user:${user}`);
    socket.on('ready', (ack: () => void) => ack());
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  io.disconnectSockets(true);
  io.engine.close();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

/** A client of `user`, connected and joined to its room (the ack comes after the join). */
async function client(user: string, transports: Array<'websocket' | 'polling'> = ['websocket']): Promise<{ socket: ClientSocket; got: unknown[] }> {
  const socket = connect(url, { transports, auth: { user }, forceNew: true, reconnection: false, upgrade: false });
  clients.push(socket);
  const got: unknown[] = [];
  socket.on(NOTIFICATION_EVENT, (n: { seq: number }) => got.push(n.seq));
  socket.on('other', (v: unknown) => got.push(v));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  await socket.timeout(5_000).emitWithAck('ready');
  return { socket, got };
}

/** Waits (at most 2 s) for what the clients should have received. */
const until = (check: () => boolean) => eventually(check, 2_000, 10);

const notification = (seq: number) => ({ id: `n${seq}`, seq, entityType: 'like', data: { i: seq }, createdAt: 1 });
const serverSocketsOf = (user: string) => [...io.of('/').sockets.values()].filter((s) => s.rooms.has(`user:${user}`));

describe('direct frames', () => {
  it('writes a broadcast to WebSocket clients itself and leaves polling clients to socket.io, with the same payload', async () => {
    const ws1 = await client('alice');
    const ws2 = await client('alice');
    const poll = await client('alice', ['polling']);
    const before = wireStats();
    io.to('user:alice').emit(NOTIFICATION_EVENT, notification(1));
    await until(() => ws1.got.length === 1 && ws2.got.length === 1 && poll.got.length === 1);
    expect([ws1.got, ws2.got, poll.got]).toEqual([[1], [1], [1]]);
    expect(wireStats().direct - before.direct).toBe(2);
    expect(wireShape()).toBe('ok');
  });

  it('coalesces the frames one socket gets in one turn and keeps their order', async () => {
    const bob = await client('bob');
    const carol = await client('carol');
    const before = wireStats();
    for (let seq = 1; seq <= 20; seq++) io.to(seq % 2 ? ['user:bob', 'user:carol'] : ['user:bob']).emit(NOTIFICATION_EVENT, notification(seq));
    await until(() => bob.got.length === 20 && carol.got.length === 10);
    expect(bob.got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(carol.got).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    const after = wireStats();
    expect(after.direct - before.direct).toBe(30);
    // The first frame per socket goes at once; the other 19 + 9 wait for the turn's end.
    expect(after.coalesced - before.coalesced).toBe(28);
    // Nothing stays corked after the turn.
    for (const s of [...serverSocketsOf('bob'), ...serverSocketsOf('carol')]) {
      const tcp = (s.conn.transport as unknown as { socket: { _socket: { writableCorked: number } } }).socket._socket;
      expect(tcp.writableCorked).toBe(0);
    }
  });

  it('never overtakes what socket.io still holds for the socket: it steps aside until that is written', async () => {
    const dave = await client('dave');
    const [server] = serverSocketsOf('dave');
    expect(server).toBeDefined();
    const before = wireStats();
    // The first emit is written at once and leaves the transport busy until its
    // write completes, so the second waits in Engine.IO's buffer; the broadcast
    // must then queue behind it, not jump ahead.
    server!.emit('other', 'a');
    server!.emit('other', 'b');
    io.to('user:dave').emit(NOTIFICATION_EVENT, notification(7));
    server!.emit('other', 'c');
    await until(() => dave.got.length === 4);
    expect(dave.got).toEqual(['a', 'b', 7, 'c']);
    expect(wireStats().direct - before.direct).toBe(0);
    // Once Engine.IO has written everything, broadcasts take the direct path again.
    io.to('user:dave').emit(NOTIFICATION_EVENT, notification(8));
    await until(() => dave.got.length === 5);
    expect(dave.got[4]).toBe(8);
    expect(wireStats().direct - before.direct).toBe(1);
  });

  it('writes after a direct frame keep their order, whichever path they take', async () => {
    const erin = await client('erin');
    const [server] = serverSocketsOf('erin');
    io.to('user:erin').emit(NOTIFICATION_EVENT, notification(1));
    server!.emit('other', 'x');
    io.to('user:erin').emit(NOTIFICATION_EVENT, notification(2));
    await until(() => erin.got.length === 3);
    expect(erin.got).toEqual([1, 'x', 2]);
  });

  it('leaves events other than notifications, and broadcasts with acknowledgements, to socket.io', async () => {
    const frank = await client('frank');
    frank.socket.on('ping-all', (_v: unknown, ack: (r: string) => void) => ack('pong'));
    const before = wireStats();
    io.to('user:frank').emit('other', 'plain');
    const replies = await io.to('user:frank').timeout(5_000).emitWithAck('ping-all', 1);
    await until(() => frank.got.length === 1);
    expect(frank.got).toEqual(['plain']);
    expect(replies).toEqual(['pong']);
    expect(wireStats().direct - before.direct).toBe(0);
  });
});
