import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { createHeraldSocket, RECEIVED_ACK_MS, type HeraldClient, type Refusal } from './socket';

/**
 * The browser client against a real socket.io server on a free port, whose
 * middleware refuses handshakes the way Herald's does (`next(new Error(code))`).
 */

interface Handshake {
  token: unknown;
  at: number;
}

interface Harness {
  url: string;
  io: Server;
  handshakes: Handshake[];
  /** The answer to each handshake, in order; handshakes past the list are accepted. */
  answers: Array<string | null>;
}

let http: HttpServer | undefined;
let io: Server | undefined;
let client: HeraldClient | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  await new Promise<void>((resolve) => {
    if (io) void io.close(() => resolve());
    else resolve();
  });
  io = undefined;
  http = undefined;
});

async function startHarness(answers: Array<string | null>): Promise<Harness> {
  http = createServer();
  io = new Server(http);
  const handshakes: Handshake[] = [];
  io.use((socket, next) => {
    const answer = answers[handshakes.length];
    handshakes.push({ token: (socket.handshake.auth as { token?: unknown }).token, at: Date.now() });
    next(answer ? new Error(answer) : undefined);
  });
  io.on('connection', (socket) => socket.emit('notifications:synced', { replayed: 0, unread: 0, headSeq: 0, serverTime: Date.now() }));
  await new Promise<void>((resolve) => http?.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, io, handshakes, answers };
}

function connect(url: string) {
  const tokenRequests: Array<{ refresh: boolean }> = [];
  const refusals: Refusal[] = [];
  let issued = 0;
  client = createHeraldSocket({
    url,
    path: '/socket.io',
    getToken: async (o) => {
      tokenRequests.push(o);
      return `token-${++issued}`;
    },
    getLastSeq: () => null,
    onRefused: (r) => refusals.push(r),
  });
  const connected = new Promise<void>((resolve) => client?.socket.once('connect', () => resolve()));
  client.socket.connect();
  return { client, tokenRequests, refusals, connected };
}

const waitUntil = async (check: () => boolean, timeoutMs = 20_000) => {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('createHeraldSocket() against refusals', () => {
  it('backs off from rate_limited with the same token, without asking for a new one', async () => {
    const h = await startHarness(['rate_limited', 'rate_limited', 'rate_limited']);
    const { tokenRequests, refusals, connected } = connect(h.url);
    await connected;

    expect(h.handshakes).toHaveLength(4);
    expect(h.handshakes.map((s) => s.token)).toEqual(['token-1', 'token-1', 'token-1', 'token-1']);
    expect(tokenRequests).toEqual([{ refresh: false }]);
    expect(refusals.map((r) => r.code)).toEqual(['rate_limited', 'rate_limited', 'rate_limited']);
    // Full jitter: each delay lies in [0, 1 s · 2^attempt), and each retry waited for its delay.
    refusals.forEach((r, i) => {
      expect(r.retryInMs).not.toBeNull();
      expect(r.retryInMs).toBeGreaterThanOrEqual(0);
      expect(r.retryInMs).toBeLessThan(1_000 * 2 ** i);
      const waited = h.handshakes[i + 1]!.at - h.handshakes[i]!.at;
      expect(waited).toBeGreaterThanOrEqual((r.retryInMs ?? 0) - 5);
    });
  });

  it('asks for a fresh token after unauthorized, and only then', async () => {
    const h = await startHarness(['unauthorized']);
    const { tokenRequests, refusals, connected } = connect(h.url);
    await connected;
    expect(tokenRequests).toEqual([{ refresh: false }, { refresh: true }]);
    expect(h.handshakes.map((s) => s.token)).toEqual(['token-1', 'token-2']);
    expect(refusals).toEqual([{ code: 'unauthorized', retryInMs: 1_000 }]);
  });

  it('gives up on a refusal that a retry cannot fix', async () => {
    const h = await startHarness(['too_many_connections']);
    const { refusals } = connect(h.url);
    await waitUntil(() => refusals.length === 1);
    expect(refusals).toEqual([{ code: 'too_many_connections', retryInMs: null }]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(h.handshakes).toHaveLength(1);
  });

  it('gives up when a fresh token is refused too', async () => {
    const h = await startHarness(['unauthorized', 'unauthorized', 'unauthorized']);
    const { tokenRequests, refusals } = connect(h.url);
    await waitUntil(() => refusals.at(-1)?.retryInMs === null, 10_000);
    expect(refusals.map((r) => r.retryInMs)).toEqual([1_000, null]);
    expect(tokenRequests).toEqual([{ refresh: false }, { refresh: true }]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(h.handshakes).toHaveLength(2);
  }, 20_000);

  it('comes back with the same token after the server cuts it off as a slow consumer', async () => {
    const h = await startHarness([]);
    const { tokenRequests, refusals, connected } = connect(h.url);
    await connected;
    const [server] = await h.io.fetchSockets();
    server?.emit('herald:error', { code: 'slow_consumer' as never, message: 'too far behind' });
    server?.disconnect(true);
    await waitUntil(() => h.handshakes.length === 2);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.code).toBe('slow_consumer');
    expect(refusals[0]?.retryInMs).toBeLessThan(1_000);
    expect(tokenRequests).toEqual([{ refresh: false }]);
    expect(h.handshakes.map((s) => s.token)).toEqual(['token-1', 'token-1']);
  });

  it('cancels a scheduled retry when closed', async () => {
    const h = await startHarness(['rate_limited']);
    const { client: c, refusals } = connect(h.url);
    await waitUntil(() => refusals.length === 1);
    c.close();
    await new Promise((r) => setTimeout(r, 1_200));
    expect(h.handshakes).toHaveLength(1);
  });
});

describe('createHeraldSocket() receipts', () => {
  it('acknowledges what it received as one cumulative notifications:received per RECEIVED_ACK_MS', async () => {
    const h = await startHarness([]);
    const acks: Array<{ upTo: unknown; at: number }> = [];
    h.io.on('connection', (socket) => socket.on('notifications:received', (req: { upTo: unknown }) => acks.push({ upTo: req.upTo, at: Date.now() })));
    const { connected } = connect(h.url);
    await connected;
    const [server] = await h.io.fetchSockets();
    const n = (seq: number) => ({ id: `n${seq}`, seq, entityType: 'message', data: null, createdAt: new Date().toISOString(), read: false });
    const sentAt = Date.now();
    for (const seq of [3, 5, 4]) server?.emit('receive_message', n(seq));
    await waitUntil(() => acks.length === 1);
    expect(acks[0]?.upTo).toBe(5);
    expect((acks[0]?.at ?? 0) - sentAt).toBeGreaterThanOrEqual(RECEIVED_ACK_MS - 20);
    // Nothing new received: nothing more sent.
    await new Promise((r) => setTimeout(r, RECEIVED_ACK_MS * 2));
    expect(acks).toHaveLength(1);
    server?.emit('receive_message', n(9));
    await waitUntil(() => acks.length === 2);
    expect(acks[1]?.upTo).toBe(9);
  });
});
