import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Answers over HTTP/1.1 a request that offers an upgrade Herald does not speak.
 *
 * Java's HttpClient (HTTP/2 by default) sends its first request to an http://
 * URL with `Connection: Upgrade, HTTP2-Settings` and `Upgrade: h2c`; so does
 * `curl --http2`. A server may ignore such an offer and answer in HTTP/1.1
 * (RFC 9110 §7.8), but Node hands every request that carries `Upgrade` to the
 * server's 'upgrade' listeners once there are any, and socket.io's engine ends
 * those it does not take after a second, without an answer: the backend saw
 * "header parser received no bytes" and its push was lost.
 *
 * So the 'upgrade' listeners installed so far (socket.io's) are put behind one
 * that passes on WebSocket upgrades only. Any other upgrade is turned back into
 * the plain request it also is: its head is written again without the upgrade
 * headers, put back in front of the bytes still unread on the socket (the body),
 * and the socket is handed to the HTTP server as if it had just connected, so
 * the usual request handler, timeouts and keep-alive apply.
 */
export function answerIgnoredUpgrades(server: Server): void {
  const passOn = server.listeners('upgrade') as Array<(req: IncomingMessage, socket: Duplex, head: Buffer) => void>;
  server.removeAllListeners('upgrade');
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (offersWebSocket(req)) {
      for (const listener of passOn) listener.call(server, req, socket, head);
      return;
    }
    socket.unshift(Buffer.concat([Buffer.from(headWithoutUpgrade(req), 'latin1'), head]));
    server.emit('connection', socket);
  });
}

const tokens = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');

function offersWebSocket(req: IncomingMessage): boolean {
  return tokens(req.headers.upgrade).some((t) => t.toLowerCase() === 'websocket');
}

/** Hop-by-hop headers that belong to the upgrade offer, dropped with it. */
const OFFER_HEADERS = new Set(['upgrade', 'http2-settings']);

/**
 * The request head as it came, minus the upgrade offer. Header values are the
 * ones Node parsed and validated (no CR or LF), in their original order and
 * spelling; latin1 gives back the bytes Node decoded them from.
 */
export function headWithoutUpgrade(req: IncomingMessage): string {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    const lower = name.toLowerCase();
    if (OFFER_HEADERS.has(lower)) continue;
    if (lower === 'connection') {
      const kept = tokens(value).filter((t) => !OFFER_HEADERS.has(t.toLowerCase()));
      if (kept.length > 0) lines.push(`${name}: ${kept.join(', ')}`);
      continue;
    }
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
