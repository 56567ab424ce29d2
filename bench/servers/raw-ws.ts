import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveReference } from './common';

/**
 * The physical reference: a bare `ws` server. A client names its user in the URL
 * (`/?u=<id>`); a message is serialized once and the same bytes are written to
 * every socket it goes to.
 */

const http = createServer((_req, res) => {
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });
const everyone = new Set<WebSocket>();
const byUser = new Map<string, Set<WebSocket>>();

wss.on('connection', (ws, req) => {
  const user = new URL(req.url ?? '/', 'http://x').searchParams.get('u') ?? 'anonymous';
  everyone.add(ws);
  let mine = byUser.get(user);
  if (!mine) byUser.set(user, (mine = new Set()));
  mine.add(ws);
  ws.on('close', () => {
    everyone.delete(ws);
    mine.delete(ws);
    if (mine.size === 0) byUser.delete(user);
  });
  ws.on('error', () => undefined);
});

const TEXT = { binary: false };

serveReference('raw-ws', http, {
  all(n) {
    const bytes = Buffer.from(JSON.stringify(n));
    for (const ws of everyone) ws.send(bytes, TEXT);
    return everyone.size;
  },
  to(users, n) {
    const bytes = Buffer.from(JSON.stringify(n));
    let sent = 0;
    for (const u of users) {
      const sockets = byUser.get(u);
      if (!sockets) continue;
      for (const ws of sockets) ws.send(bytes, TEXT);
      sent += sockets.size;
    }
    return sent;
  },
  connections: () => everyone.size,
});
