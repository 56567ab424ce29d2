import { connect, type Socket } from 'node:net';

/**
 * A minimal HTTP/1.1 keep-alive client: one request in flight per connection,
 * `concurrency` connections. Far cheaper per request than `node:http`, which
 * matters when the load generator shares two cores with the server and the
 * simulated users. Handles Content-Length and chunked answers (Next sends
 * chunked), and reconnects when the server closes an idle connection.
 */

export interface HttpAnswer {
  status: number;
  body: string;
}

interface InFlight {
  resolve: (a: HttpAnswer) => void;
  reject: (e: Error) => void;
}

const REQUEST_TIMEOUT_MS = 30_000;
/**
 * A connection idle longer than this is replaced before use: Node servers close
 * idle keep-alive connections after 5 s, and a request written just as the
 * server closes is lost (ECONNRESET).
 */
const MAX_IDLE_MS = 4_000;

class Connection {
  private socket: Socket | undefined;
  private buf = '';
  private current: InFlight | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastUsed = 0;
  busy = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  private open(): Socket {
    const s = connect({ host: this.host, port: this.port, noDelay: true });
    s.setEncoding('latin1');
    s.on('data', (chunk: string) => {
      if (this.socket !== s) return;
      this.buf += chunk;
      this.parse();
    });
    const fail = (err: Error) => {
      // A socket replaced or dropped on purpose says nothing about the request in flight now.
      if (this.socket !== s) return;
      this.socket = undefined;
      this.buf = '';
      this.finish(undefined, err);
    };
    s.on('error', fail);
    s.on('close', () => fail(new Error('connection closed')));
    this.socket = s;
    return s;
  }

  request(head: string, body: string): Promise<HttpAnswer> {
    this.busy = true;
    return new Promise<HttpAnswer>((resolve, reject) => {
      this.current = { resolve, reject };
      this.timer = setTimeout(() => {
        const s = this.socket;
        this.socket = undefined;
        this.buf = '';
        s?.destroy();
        this.finish(undefined, new Error('request timed out'));
      }, REQUEST_TIMEOUT_MS);
      if (this.socket && performance.now() - this.lastUsed > MAX_IDLE_MS) {
        const stale = this.socket;
        this.socket = undefined;
        this.buf = '';
        stale.destroy();
      }
      const s = this.socket && !this.socket.destroyed ? this.socket : this.open();
      s.write(head + body, 'utf8');
    });
  }

  private finish(answer: HttpAnswer | undefined, err?: Error): void {
    const cur = this.current;
    if (!cur) return;
    this.current = undefined;
    clearTimeout(this.timer);
    this.lastUsed = performance.now();
    this.busy = false;
    if (answer) cur.resolve(answer);
    else cur.reject(err ?? new Error('no answer'));
  }

  private parse(): void {
    const headEnd = this.buf.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = this.buf.slice(0, headEnd);
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    const bodyStart = headEnd + 4;
    let body: string;
    let consumed: number;
    const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    if (cl) {
      const len = Number(cl[1]);
      if (this.buf.length < bodyStart + len) return;
      body = this.buf.slice(bodyStart, bodyStart + len);
      consumed = bodyStart + len;
    } else if (lower.includes('\r\ntransfer-encoding: chunked')) {
      let pos = bodyStart;
      let out = '';
      for (;;) {
        const lineEnd = this.buf.indexOf('\r\n', pos);
        if (lineEnd < 0) return;
        const size = parseInt(this.buf.slice(pos, lineEnd), 16);
        if (Number.isNaN(size)) {
          const s = this.socket;
          this.socket = undefined;
          this.buf = '';
          s?.destroy();
          this.finish(undefined, new Error('bad chunked encoding'));
          return;
        }
        if (size === 0) {
          // No trailers from the servers we talk to: the final CRLF follows.
          if (this.buf.length < lineEnd + 4) return;
          consumed = lineEnd + 4;
          break;
        }
        if (this.buf.length < lineEnd + 2 + size + 2) return;
        out += this.buf.slice(lineEnd + 2, lineEnd + 2 + size);
        pos = lineEnd + 2 + size + 2;
      }
      body = out;
    } else {
      body = '';
      consumed = bodyStart;
    }
    this.buf = this.buf.slice(consumed);
    if (/\r\nconnection:\s*close/.test(lower)) {
      // The server will close it: forget it now, so the next request opens a fresh one.
      const s = this.socket;
      this.socket = undefined;
      s?.end();
    }
    this.finish({ status, body: Buffer.from(body, 'latin1').toString('utf8') });
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }
}

export class HttpPool {
  private readonly conns: Connection[] = [];
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly host: string,
    private readonly port: number,
    concurrency: number,
  ) {
    for (let i = 0; i < concurrency; i++) this.conns.push(new Connection(host, port));
  }

  /** Sends one request on a free connection (waiting for one if all are busy). */
  async request(method: string, path: string, headers: Record<string, string>, body = ''): Promise<HttpAnswer> {
    let conn = this.conns.find((c) => !c.busy);
    while (!conn) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      conn = this.conns.find((c) => !c.busy);
    }
    conn.busy = true;
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    if (body !== '' || method === 'POST') head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    head += '\r\n';
    try {
      return await conn.request(head, body);
    } finally {
      this.waiting.shift()?.();
    }
  }

  close(): void {
    for (const c of this.conns) c.close();
  }
}

/** The push API's headers for a given key. */
export function pushHeaders(key: string): Record<string, string> {
  return { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
}
