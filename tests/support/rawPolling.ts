import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/**
 * An Engine.IO v4 long-polling session written against the wire directly, for
 * what socket.io-client never sends: many packets in one POST (several CONNECTs,
 * two `user_login`s), from a chosen source address.
 *
 * Packets in one HTTP body are separated by the record separator (\x1e).
 */

const SEPARATOR = '\x1e';

export interface HttpAnswer {
  status: number | undefined;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One HTTP request from `localAddress`; the whole answer. */
export function rawHttp(
  port: number,
  path: string,
  opts: { method?: string; body?: string; headers?: Record<string, string>; localAddress?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, localAddress: opts.localAddress },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`${opts.method ?? 'GET'} ${path}: no answer in time`)));
    req.end(opts.body);
  });
}

export class PollingSession {
  /** Packets received so far, in order (pings are answered and not kept). */
  readonly packets: string[] = [];

  private constructor(
    readonly port: number,
    readonly sid: string,
    private readonly localAddress: string | undefined,
    private readonly path: string,
  ) {}

  /** Opens a session (the Engine.IO handshake). */
  static async open(port: number, opts: { localAddress?: string; path?: string; headers?: Record<string, string> } = {}): Promise<PollingSession> {
    const path = opts.path ?? '/socket.io';
    const res = await rawHttp(port, `${path}/?EIO=4&transport=polling`, { localAddress: opts.localAddress, headers: opts.headers });
    if (res.status !== 200 || !res.text.startsWith('0{')) throw new Error(`polling handshake: ${res.status} ${res.text.slice(0, 200)}`);
    const { sid } = JSON.parse(res.text.slice(1)) as { sid: string };
    return new PollingSession(port, sid, opts.localAddress, path);
  }

  get url(): string {
    return `${this.path}/?EIO=4&transport=polling&sid=${encodeURIComponent(this.sid)}`;
  }

  /** Sends packets in one POST. */
  async send(packets: string[]): Promise<void> {
    const res = await rawHttp(this.port, this.url, {
      method: 'POST',
      body: packets.join(SEPARATOR),
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      localAddress: this.localAddress,
    });
    if (res.status !== 200 || res.text !== 'ok') throw new Error(`polling POST: ${res.status} ${res.text.slice(0, 200)}`);
  }

  /** One GET: the packets the server had (or the next ones it sends). */
  async poll(): Promise<string[]> {
    const res = await rawHttp(this.port, this.url, { localAddress: this.localAddress, timeoutMs: 40_000 });
    if (res.status !== 200) throw new Error(`polling GET: ${res.status} ${res.text.slice(0, 200)}`);
    const got = res.text.split(SEPARATOR);
    for (const packet of got) {
      if (packet === '2') await this.send(['3']);
      else this.packets.push(packet);
    }
    return got;
  }

  /** Polls until `done(packets)` holds, at most `maxPolls` GETs. */
  async pollUntil(done: (packets: string[]) => boolean, maxPolls = 50): Promise<string[]> {
    for (let i = 0; i < maxPolls && !done(this.packets); i++) await this.poll();
    if (!done(this.packets)) throw new Error(`condition not met after ${maxPolls} polls; got ${this.packets.slice(-5).join(' | ').slice(0, 300)}`);
    return this.packets;
  }

  /** Closes the session (an Engine.IO close packet). */
  async close(): Promise<void> {
    await this.send(['1']).catch(() => undefined);
  }
}
