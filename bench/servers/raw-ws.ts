import { createServer } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { writeCoalesced } from '../../lib/realtime/wire';
import { serveReference } from './common';

/**
 * The physical reference: a bare `ws` server. A client names its user in the URL
 * (`/?u=<id>`); a message is serialized once and the same bytes are written to
 * every socket it goes to.
 *
 * With COALESCE=1 it is the stronger floor (issue 26): each message's WebSocket
 * frame is built once, and a socket's frames of one turn leave in one write with
 * Herald's own `writeCoalesced` (lib/realtime/wire.ts): the first frame a socket
 * gets in a turn is written to its TCP socket at once; from the second on, the
 * socket is corked until the turn's synchronous work is done, so they go out in
 * one `writev`. Without it, every frame is its own `ws.send`.
 */

const COALESCE = process.env.COALESCE === '1';

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

/** ws's frame builder (public in ws, absent from its type definitions): an unmasked, final text frame. */
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } };
const FRAME = { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false };

/** One message's bytes to one socket: its frame straight to the TCP socket (coalescing), or `ws.send`. */
function sender(bytes: Buffer): (ws: WebSocket) => void {
  if (!COALESCE) return (ws) => ws.send(bytes, TEXT);
  const frame = Buffer.concat(Sender.frame(bytes, FRAME));
  return (ws) => {
    const tcp = (ws as unknown as { _socket: NetSocket | null })._socket;
    if (tcp && !tcp.destroyed) writeCoalesced(tcp, frame);
  };
}

serveReference(COALESCE ? 'raw-ws-coalescing' : 'raw-ws', http, {
  all(n) {
    const send = sender(Buffer.from(JSON.stringify(n)));
    for (const ws of everyone) send(ws);
    return everyone.size;
  },
  to(users, n) {
    const send = sender(Buffer.from(JSON.stringify(n)));
    let sent = 0;
    for (const u of users) {
      const sockets = byUser.get(u);
      if (!sockets) continue;
      for (const ws of sockets) send(ws);
      sent += sockets.size;
    }
    return sent;
  },
  connections: () => everyone.size,
});
