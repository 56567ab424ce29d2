import WebSocket from 'ws';

/**
 * A socket.io client written against the wire format directly (Engine.IO v4 over
 * `ws`, socket.io protocol v5), for what socket.io-client will not send:
 * oversized or malformed frames, floods, foreign origins, a chosen source
 * address. Also light enough to hold thousands of sockets in one process.
 *
 *   server  0{"sid",…}              open          → client 40{"token":…}
 *   server  40{"sid"}               connected       (44{"message"}: refused)
 *   server  42["event",…]           event           client 42["event",…] / 421["event",…] (ack id 1)
 *   server  43 1[…]                 ack
 *   server  2                       ping          → client 3
 *   server  41                      disconnect (server side)
 */

export interface RawOptions {
  /** socket.io path (default /socket.io). */
  path?: string;
  /** Origin header of the WebSocket upgrade. */
  origin?: string;
  /** Source address to connect from (any 127.x.y.z works on Linux loopback). */
  localAddress?: string;
  /** Keep every frame in `frames` (default true; a soak turns it off). */
  keep?: boolean;
  /** Called for every frame after the open packet. */
  onFrame?: (frame: string | Buffer) => void;
  /** How long to wait for the open packet. */
  timeoutMs?: number;
}

export interface RawClient {
  ws: WebSocket;
  /** Frames received after the open packet (text frames as strings). */
  frames: Array<string | Buffer>;
  /** Resolves when the WebSocket closes. */
  closed: Promise<{ code: number; reason: string }>;
  isClosed(): boolean;
  send(frame: string | Buffer): void;
  /** Resolves the first frame (already received or to come) matching `match`. */
  waitFor(match: (frame: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): void;
}

export function wsUrl(httpUrl: string, path = '/socket.io'): string {
  return `${httpUrl.replace(/^http/, 'ws')}${path}/?EIO=4&transport=websocket`;
}

/** Opens the Engine.IO connection (no namespace yet); resolves after the open packet. */
export function openRaw(httpUrl: string, opts: RawOptions = {}): Promise<RawClient> {
  const ws = new WebSocket(wsUrl(httpUrl, opts.path), {
    perMessageDeflate: false,
    handshakeTimeout: opts.timeoutMs ?? 10_000,
    ...(opts.origin ? { origin: opts.origin } : {}),
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
  });
  const keep = opts.keep ?? true;
  const frames: Array<string | Buffer> = [];
  const waiters = new Set<{ match: (f: string) => boolean; resolve: (f: string) => void }>();
  let isClosed = false;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => {
      isClosed = true;
      resolve({ code, reason: reason.toString() });
    });
  });

  const client: RawClient = {
    ws,
    frames,
    closed,
    isClosed: () => isClosed,
    send(frame) {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame);
    },
    waitFor(match, timeoutMs = 5_000) {
      const seen = frames.find((f): f is string => typeof f === 'string' && match(f));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const waiter = {
          match,
          resolve: (f: string) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(f);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching frame within ${timeoutMs} ms; got: ${frames.slice(-5).join(' | ').slice(0, 500)}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close() {
      if (!isClosed) ws.terminate();
    },
  };

  return new Promise<RawClient>((resolve, reject) => {
    let opened = false;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = isBinary ? data : data.toString('utf8');
      if (!opened) {
        if (typeof frame === 'string' && frame.startsWith('0{')) {
          opened = true;
          resolve(client);
        }
        return;
      }
      if (frame === '2') {
        ws.send('3');
        return;
      }
      if (keep) frames.push(frame);
      opts.onFrame?.(frame);
      if (typeof frame === 'string') for (const w of [...waiters]) if (w.match(frame)) w.resolve(frame);
    });
    ws.once('error', (err) => {
      if (!opened) reject(err);
    });
    ws.once('close', (code) => {
      if (!opened) reject(new Error(`closed (${code}) before the open packet`));
    });
  });
}

/** The socket.io CONNECT packet for the main namespace with this handshake auth. */
export const connectPacket = (auth: Record<string, unknown>): string => `40${JSON.stringify(auth)}`;

/**
 * Opens a connection and joins the main namespace with `auth`. Resolves once
 * connected (the `40{"sid"…}` answer); rejects with the refusal's message.
 */
export async function connectRaw(httpUrl: string, auth: Record<string, unknown>, opts: RawOptions = {}): Promise<RawClient> {
  const client = await openRaw(httpUrl, opts);
  client.send(connectPacket(auth));
  const answer = await client.waitFor((f) => f.startsWith('40') || f.startsWith('44'), opts.timeoutMs ?? 10_000).catch((err: Error) => {
    client.close();
    throw err;
  });
  if (answer.startsWith('44')) {
    client.close();
    throw new Error((JSON.parse(answer.slice(2)) as { message: string }).message);
  }
  return client;
}

/** The payload of the first `42["event", payload]` frame of this event, waiting for it if needed. */
export async function waitForEvent<T = unknown>(client: RawClient, event: string, timeoutMs = 5_000): Promise<T> {
  const prefix = `42${JSON.stringify([event]).slice(0, -1)},`;
  const frame = await client.waitFor((f) => f.startsWith(prefix), timeoutMs);
  return (JSON.parse(frame.slice(2)) as [string, T])[1];
}
