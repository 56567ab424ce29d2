import { connect, type Socket } from 'node:net';

export interface RawResponse {
  /** The status line as sent, e.g. "HTTP/1.1 202 Accepted". */
  statusLine: string;
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/**
 * One keep-alive TCP connection to 127.0.0.1 that sends raw bytes and reads whole
 * HTTP/1.1 responses (Content-Length or chunked framing), for tests that need
 * what fetch hides: repeated headers, bodies in pieces, the connection's fate.
 */
export class RawHttp {
  private buffer = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawHttp> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new RawHttp(socket));
      });
      socket.once('error', reject);
    });
  }

  write(bytes: string | Buffer): void {
    if (typeof bytes === 'string') this.socket.write(bytes, 'utf8');
    else this.socket.write(bytes);
  }

  /** The next response. Fails after `ms` rather than hang, or at once if the connection closed first. */
  async response(ms = 10_000): Promise<RawResponse> {
    const end = Date.now() + ms;
    for (;;) {
      const parsed = this.take();
      if (parsed) return parsed;
      if (this.closed) throw new Error(`connection closed; got ${JSON.stringify(this.buffer.slice(0, 200))}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no response within ${ms} ms; got ${JSON.stringify(this.buffer.slice(0, 200))}`);
      await this.wait(left);
    }
  }

  /** Whether the server closed the connection within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!this.closed && Date.now() < end) await this.wait(end - Date.now());
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private take(): RawResponse | undefined {
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return undefined;
    const [statusLine = '', ...lines] = this.buffer.slice(0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    const from = headEnd + 4;
    const framed = /chunked/i.test(headers['transfer-encoding'] ?? '') ? this.chunkedBody(from) : this.sizedBody(from, Number(headers['content-length'] ?? 0));
    if (!framed) return undefined;
    this.buffer = this.buffer.slice(framed.next);
    return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body: framed.body };
  }

  /** A Content-Length body, once all of it is in. Offsets are in latin1 characters, i.e. bytes. */
  private sizedBody(from: number, length: number): { body: string; next: number } | undefined {
    if (this.buffer.length < from + length) return undefined;
    return { body: Buffer.from(this.buffer.slice(from, from + length), 'latin1').toString('utf8'), next: from + length };
  }

  /** A chunked body, once its last (empty) chunk is in. */
  private chunkedBody(from: number): { body: string; next: number } | undefined {
    const parts: Buffer[] = [];
    let at = from;
    for (;;) {
      const lineEnd = this.buffer.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(this.buffer.slice(at, lineEnd), 16);
      if (this.buffer.length < lineEnd + 2 + size + 2) return undefined;
      if (size === 0) return { body: Buffer.concat(parts).toString('utf8'), next: lineEnd + 4 };
      parts.push(Buffer.from(this.buffer.slice(lineEnd + 2, lineEnd + 2 + size), 'latin1'));
      at = lineEnd + 2 + size + 2;
    }
  }
}
