import { readFileSync } from 'node:fs';
import type { Socket as NetSocket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireNotification } from '../../lib/contract';
import { PollingSession } from '../support/rawPolling';
import { connectPacket, connectRaw, type RawClient } from '../support/rawSocket';
import { push, request, startServer, TEST_PUSH_KEY, tokenFor, type TestServer } from '../support/server';
import { connectClient, eventually, type ConnectedClient } from '../support/socket';

/**
 * Clients that stop reading (their TCP socket paused, as a phone in a tunnel):
 * Herald cuts each off once more than MAX_CLIENT_QUEUE_BYTES waits for it, and
 * the largest queues first once the whole process holds more than
 * MAX_QUEUED_BYTES; the client catches up when it comes back, and everyone else
 * keeps receiving.
 */

const MIB = 1024 * 1024;
const CLIENT_CAP = 1 * MIB;
const PROCESS_CAP = 8 * MIB;
/** 15 KB of data per push, as in the report that found this. */
const payload = (i: number) => ({ i, text: 'x'.repeat(15_000) });

let server: TestServer;
const closers: Array<() => void> = [];

beforeAll(async () => {
  server = await startServer({
    mode: 'production',
    env: {
      MAX_CLIENT_QUEUE_BYTES: String(CLIENT_CAP),
      MAX_QUEUED_BYTES: String(PROCESS_CAP),
      // The inbox keeps every push of these tests, so a returning client can catch up on all of them.
      INBOX_MAX_PER_USER: '5000',
      PUSH_RATE_LIMIT: '0',
      MAX_CONNECTIONS_PER_IP: '1000',
      HANDSHAKE_RATE_PER_IP: '0',
    },
  });
});

afterAll(async () => {
  for (const close of closers.splice(0)) close();
  expect(server.process.exitCode).toBeNull();
  await server?.stop();
  server?.cleanup();
});

interface Outbound {
  queuedBytes: number;
  slowConsumers: number;
  processCapCuts: number;
}
async function readyz(): Promise<{ connections: number; outbound: Outbound }> {
  const res = await request(server.url, '/readyz', { headers: { authorization: `Bearer ${TEST_PUSH_KEY}` } });
  return res.body.checks.realtime as { connections: number; outbound: Outbound };
}

const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.process.pid}/status`, 'utf8'))?.[1]);

/** A raw WebSocket client that stops reading once caught up; `resume()` reads again. */
async function stalled(userId: string): Promise<{ client: RawClient; resume(): void }> {
  const client = await connectRaw(server.url, { token: await tokenFor(userId) });
  closers.push(() => client.close());
  await client.waitFor((f) => f.startsWith('42["notifications:synced"'));
  const tcp = (client.ws as unknown as { _socket: NetSocket })._socket;
  tcp.pause();
  return { client, resume: () => tcp.resume() };
}

const seqsOf = (frames: ReadonlyArray<string | Buffer>): number[] =>
  frames
    .filter((f): f is string => typeof f === 'string' && f.startsWith('42["receive_message"'))
    .map((f) => (JSON.parse(f.slice(2)) as [string, WireNotification])[1].seq);

/** Pushes `count` notifications to `userIds`, `inFlight` at a time; resolves their ids in order of seq. */
async function pushMany(userIds: string[], count: number, inFlight = 8): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await push(server.url, { tokens: userIds, data: payload(i) });
      expect(res.status).toBe(202);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

describe('one client that stops reading', () => {
  it('is cut off once its queue passes the cap, holds Herald’s memory to about the cap, and catches up in full when it returns', async () => {
    // What the same pushes cost with a client that reads: after a warm-up, the RSS growth of 1,200 pushes.
    const reader = await connectClient(server.url, { token: await tokenFor('reads-along') });
    closers.push(() => reader.close());
    await pushMany(['reads-along'], 600);
    const rssHealthyBefore = rssKiB();
    await pushMany(['reads-along'], 1_200);
    await eventually(() => reader.received.length === 1_800, 20_000);
    const healthyGrowthMiB = (rssKiB() - rssHealthyBefore) / 1024;

    const slow = await stalled('slow-one');
    const before = await readyz();
    const rssBefore = rssKiB();
    await pushMany(['slow-one'], 1_200);
    let after = await readyz();
    for (let i = 0; i < 50 && after.outbound.slowConsumers === before.outbound.slowConsumers; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await readyz();
    }
    expect(after.outbound.slowConsumers).toBe(before.outbound.slowConsumers + 1);
    const rssGrowthMiB = (rssKiB() - rssBefore) / 1024;
    // 1,200 pushes of 15 KB went through the server; the socket's queue was capped at 1 MiB.
    console.log(`RSS growth over 1,200 pushes of 15 KB: ${healthyGrowthMiB.toFixed(1)} MiB to a client that reads, ${rssGrowthMiB.toFixed(1)} MiB to one that stopped (cap ${CLIENT_CAP / MIB} MiB)`);
    expect(rssGrowthMiB).toBeLessThanOrEqual(Math.max(0, healthyGrowthMiB) + CLIENT_CAP / MIB + 16);

    // It reads again: what reached its kernel buffers arrives, then the connection ends.
    slow.resume();
    await slow.client.closed;
    const got = seqsOf(slow.client.frames);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(1_200);
    expect(got).toEqual([...got].sort((a, b) => a - b));

    // It reconnects with the last seq it holds and gets the rest: every notification once, in order.
    const back = await connectClient(server.url, { token: await tokenFor('slow-one'), lastSeq: got.at(-1) as number });
    closers.push(() => back.close());
    const all = [...got, ...back.received.map((n) => n.seq)];
    expect(all).toHaveLength(1_200);
    expect(new Set(all).size).toBe(1_200);
    expect(all).toEqual([...all].sort((a, b) => a - b));
  }, 60_000);
});

/** A long-polling client that connects, catches up, and then never polls again: all it is sent waits in Engine.IO's buffer. */
async function stalledPolling(userId: string, localAddress: string): Promise<PollingSession> {
  const session = await PollingSession.open(server.port, { localAddress });
  closers.push(() => void session.close());
  await session.send([connectPacket({ token: await tokenFor(userId) })]);
  await session.pollUntil((p) => p.some((x) => x.startsWith('42["notifications:synced"')));
  return session;
}

describe('many clients that stop reading', () => {
  it('keep the process under its cap, cutting the largest queues, while well-behaved clients receive everything in order', async () => {
    const PUSHES = 60;
    // Long-polling clients: what they are sent waits in this process (a paused WebSocket's first
    // megabytes wait in the kernel's socket buffers instead, which no cap here can count).
    const slowUsers = Array.from({ length: 200 }, (_, i) => `slow-many-${i}`);
    for (const [i, user] of slowUsers.entries()) await stalledPolling(user, `127.3.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    const healthy: ConnectedClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await connectClient(server.url, { token: await tokenFor(`healthy-${i}`) });
      closers.push(() => c.close());
      healthy.push(c);
    }
    const before = await readyz();
    const totals: number[] = [];
    const watch = setInterval(() => void readyz().then((r) => totals.push(r.outbound.queuedBytes)), 100);
    try {
      await pushMany([...slowUsers, 'healthy-0', 'healthy-1', 'healthy-2'], PUSHES, 4);
      await eventually(() => healthy.every((c) => c.received.length === PUSHES), 30_000);
    } finally {
      clearInterval(watch);
    }
    const after = await readyz();
    // 200 queues of about 40 KB already pass the 8 MiB cap: the process cap acts before any socket's own.
    expect(after.outbound.processCapCuts).toBeGreaterThan(before.outbound.processCapCuts);
    // A sweep runs as soon as what was written since the last one could carry the total past the cap.
    expect(Math.max(...totals)).toBeLessThanOrEqual(PROCESS_CAP);
    // Pushes run four at a time: each reader gets every one once, in seq (commit) order.
    for (const c of healthy) {
      expect(new Set(c.received.map((n) => (n.data as { i: number }).i))).toEqual(new Set(Array.from({ length: PUSHES }, (_, i) => i)));
      const seqs = c.received.map((n) => n.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(c.socket.connected).toBe(true);
    }
  }, 90_000);
});
