import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { serveReference } from './common';

/**
 * What Herald adds on top of socket.io, subtracted: a socket.io server with one
 * room per user (named by the handshake's `auth.token`, unverified), emitting
 * without HTTP or storage.
 */

const http = createServer((_req, res) => {
  res.writeHead(404).end();
});
const io = new Server(http, { serveClient: false });

io.use((socket, next) => {
  const token = (socket.handshake.auth as { token?: unknown }).token;
  if (typeof token !== 'string' || token === '') {
    next(new Error('unauthorized'));
    return;
  }
  socket.data.userId = token;
  next();
});
io.on('connection', (socket) => {
  void socket.join(`user:${String(socket.data.userId)}`);
});

const rooms = io.of('/').adapter.rooms;

serveReference('bare-socketio', http, {
  all(n) {
    io.emit('receive_message', n);
    return io.engine.clientsCount;
  },
  to(users, n) {
    const names = users.map((u) => `user:${u}`);
    io.to(names).emit('receive_message', n);
    let sent = 0;
    for (const r of names) sent += rooms.get(r)?.size ?? 0;
    return sent;
  },
  connections: () => io.engine.clientsCount,
});
