import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { Adapter } from 'socket.io-adapter';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { NOTIFICATION_EVENT } from '../contract';
import { DeliveryAdapter } from './delivery';
import { checkShape, frameOf, wireShape } from './wire';

/**
 * The socket.io seams Herald builds on, checked against the installed versions,
 * so that an upgrade that breaks one fails here rather than silently changing
 * delivery: the pinned versions, `Adapter#broadcast` as the one entry of a room
 * emit, the internals wire.ts reads, and the frame bytes it writes.
 */

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  overrides: Record<string, string>;
};
const installed = (name: string): string =>
  (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;

describe('pinned versions', () => {
  it.each(['socket.io', 'socket.io-adapter', 'socket.io-parser', 'engine.io', 'socket.io-client'])('%s is pinned exactly and installed at the pin', (name) => {
    const pin = pkg.dependencies[name];
    expect(pin).toMatch(/^\d+\.\d+\.\d+$/);
    expect(installed(name)).toBe(pin);
  });

  it('ws is pinned exactly, and every copy in the tree is that one (overrides)', () => {
    expect(pkg.devDependencies.ws).toMatch(/^\d+\.\d+\.\d+$/);
    expect(installed('ws')).toBe(pkg.devDependencies.ws);
    expect(pkg.overrides).toMatchObject({ ws: '$ws', 'engine.io': '$engine.io', 'socket.io-adapter': '$socket.io-adapter', 'socket.io-parser': '$socket.io-parser' });
  });
});

describe('the seams, on a live server', () => {
  let http: HttpServer;
  let io: Server;
  let url: string;
  beforeAll(async () => {
    http = createServer();
    io = new Server(http, { serveClient: false, adapter: DeliveryAdapter });
    io.on('connection', (socket) => void socket.join('room'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    io.disconnectSockets(true);
    io.engine.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  it('hands every room emit to the adapter’s broadcast, which a subclass overrides', async () => {
    expect(io.of('/').adapter).toBeInstanceOf(DeliveryAdapter);
    const broadcast = vi.spyOn(DeliveryAdapter.prototype, 'broadcast');
    const base = vi.spyOn(Adapter.prototype, 'broadcast');
    io.to('room').emit(NOTIFICATION_EVENT, { id: 'a', seq: 1, entityType: 'x', data: null, createdAt: '', read: false });
    io.to('room').emit('other', 1);
    expect(broadcast).toHaveBeenCalledTimes(2);
    // A notification is delivered by Herald; anything else goes on to socket.io's own broadcast.
    expect(base).toHaveBeenCalledTimes(1);
    broadcast.mockRestore();
    base.mockRestore();
  });

  it('has the Engine.IO and ws internals that the direct frame path reads', async () => {
    const client = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('connect_error', reject);
    });
    const [socket] = [...io.of('/').sockets.values()];
    expect(checkShape(socket?.conn)).toBe(true);
    expect(wireShape()).toBe('ok');
    client.close();
  });
});

describe('frameOf', () => {
  it.each([0, 1, 124, 125, 126, 65_534, 65_535, 70_000])('writes the bytes ws would write for a %i-byte packet', (size) => {
    const encoded = 'x'.repeat(size);
    const data = Buffer.from(`4${encoded}`);
    const expected = Buffer.concat(
      (WebSocket as unknown as { Sender: { frame(data: Buffer, opts: object): Buffer[] } }).Sender.frame(data, {
        readOnly: false,
        mask: false,
        rsv1: false,
        opcode: 1,
        fin: true,
      }),
    );
    expect(frameOf(encoded).equals(expected)).toBe(true);
  });
});
