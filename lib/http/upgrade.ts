import 'server-only';
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
 * those it does not take after a second, without an answer: such a backend
 * would see "header parser received no bytes", and its push would be lost.
 *
 * So the server's 'upgrade' event is intercepted where Node emits it, before
 * any listener (socket.io's, and Next's, which Next adds on the first request it
 * serves): WebSocket upgrades go on to the listeners as before. Any other
 * upgrade is turned back into the plain request it also is: its head is written
 * again without the upgrade headers, put back in front of the bytes still unread
 * on the socket (the body), and the socket is handed to the HTTP server as if it
 * had just connected, so the usual request handler, timeouts and keep-alive apply.
 */
export function answerIgnoredUpgrades(server: Server): void {
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event !== 'upgrade') return emit(event, ...args);
    const [req, socket, head] = args as [IncomingMessage, Duplex, Buffer];
    if (offersWebSocket(req)) return emit(event, ...args);
    socket.unshift(Buffer.concat([Buffer.from(headWithoutUpgrade(req), 'latin1'), head]));
    return emit('connection', socket);
  }) as Server['emit'];
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
function headWithoutUpgrade(req: IncomingMessage): string {
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
