import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireNotification } from '../../lib/contract';
import { push, request, startServer, TEST_PUSH_KEY, tokenFor, type TestServer } from '../support/server';
import { connectClient, eventually, eventuallyAsync, waitForId, type ConnectedClient } from '../support/socket';

/**
 * Nothing lost (issue 3): whatever was accepted while a user was away, cut off
 * or the server was killed arrives on return, in seq order, exactly once.
 */

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Pushes one at a time (so acceptance order is seq order); returns the ids. */
async function pushSequentially(url: string, userId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (const i of range(count)) {
    const res = await push(url, { tokens: [userId], data: i });
    expect(res.status).toBe(202);
    ids.push(res.body.id as string);
  }
  return ids;
}

/** What a client got, measured against what was sent. */
function tally(sent: string[], received: WireNotification[]) {
  const ids = received.map((n) => n.id);
  const unique = new Set(ids);
  let reordered = 0;
  for (let i = 1; i < received.length; i++) if (received[i]!.seq <= received[i - 1]!.seq) reordered++;
  return {
    sent: sent.length,
    delivered: sent.filter((id) => unique.has(id)).length,
    duplicated: ids.length - unique.size,
    reordered,
    unexpected: [...unique].filter((id) => !sent.includes(id)).length,
  };
}

const exactlyOnceInOrder = (sent: string[]) => ({ sent: sent.length, delivered: sent.length, duplicated: 0, reordered: 0, unexpected: 0 });

describe('catch-up on one server', () => {
  let server: TestServer;
  const open: ConnectedClient[] = [];

  beforeAll(async () => {
    server = await startServer({ mode: 'production' });
  });

  afterAll(async () => {
    for (const c of open) c.close();
    await server?.stop();
    server?.cleanup();
  });

  it('replays 100 notifications pushed while the user was offline, in seq order, before synced', async () => {
    const sent = await pushSequentially(server.url, 'cu-offline', 100);
    const client = await connectClient(server.url, { token: await tokenFor('cu-offline'), lastSeq: 0 });
    open.push(client);

    expect(client.received).toHaveLength(100);
    expect(tally(sent, client.received)).toEqual(exactlyOnceInOrder(sent));
    expect(client.received.map((n) => n.id)).toEqual(sent);
    expect(client.received.map((n) => n.data)).toEqual(range(100));
    expect(client.received.every((n) => (n as { replay?: boolean }).replay === true)).toBe(true);
    // The replay comes first, then one synced that counts it.
    expect(client.events.map((e) => e.event)).toEqual([...range(100).map(() => 'receive_message'), 'notifications:synced']);
    expect(client.synced).toEqual([{ replayed: 100, unread: 100, headSeq: client.received[99]!.seq, serverTime: expect.any(Number) }]);

    // What follows is live, not replayed again.
    const live = await push(server.url, { tokens: ['cu-offline'], data: 'live' });
    await waitForId(client, live.body.id as string);
    const last = client.received.at(-1)!;
    expect(client.received).toHaveLength(101);
    expect(last).toMatchObject({ id: live.body.id, data: 'live' });
    expect(last).not.toHaveProperty('replay');
    expect(last.seq).toBeGreaterThan(client.received[99]!.seq);
  });

  it('replays nothing to a client that sends no lastSeq, but counts the unread', async () => {
    const sent = await pushSequentially(server.url, 'cu-fresh', 5);
    const client = await connectClient(server.url, { token: await tokenFor('cu-fresh') });
    open.push(client);

    const history = await request(server.url, '/api/notifications?userId=cu-fresh', {
      headers: { authorization: `Bearer ${TEST_PUSH_KEY}` },
    });
    expect(history.body.items.map((n: WireNotification) => n.id)).toEqual([...sent].reverse());
    expect(client.synced).toEqual([{ replayed: 0, unread: 5, headSeq: history.body.items[0].seq, serverTime: expect.any(Number) }]);

    const live = await push(server.url, { tokens: ['cu-fresh'], data: 'live' });
    await waitForId(client, live.body.id as string);
    expect(client.received.map((n) => n.id)).toEqual([live.body.id]);
  });

  it('replays only what came after lastSeq', async () => {
    const sent = await pushSequentially(server.url, 'cu-partial', 10);
    const first = await connectClient(server.url, { token: await tokenFor('cu-partial'), lastSeq: 0 });
    first.close();
    const seenUpTo = first.received[3]!.seq;

    const client = await connectClient(server.url, { token: await tokenFor('cu-partial'), lastSeq: seenUpTo });
    open.push(client);
    expect(client.received.map((n) => n.id)).toEqual(sent.slice(4));
    expect(client.synced[0]).toMatchObject({ replayed: 6, unread: 10 });
  });

  it('delivers every notification exactly once and in order across disconnects while pushes continue', async () => {
    const user = 'cu-drop';
    const token = await tokenFor(user);
    const TOTAL = 150;
    const DROP_AT = [40, 100];
    /** Pushes stored while the socket was cut off, before it may reconnect: a gap only catch-up can fill. */
    const GAP = 10;

    let highestSeq = 0;
    let cutOff = false;
    let storedSinceCut = 0;
    let pushing = true;
    const client = await connectClient(
      server.url,
      // Called on every (re)connect, like the browser's: the highest seq seen so far.
      (cb) => {
        void eventually(() => !cutOff || storedSinceCut >= GAP || !pushing, 15_000).finally(() => {
          cutOff = false;
          cb({ token, lastSeq: highestSeq });
        });
      },
      { reconnection: true, reconnectionDelay: 50 },
    );
    open.push(client);
    client.socket.on('receive_message', (n) => (highestSeq = Math.max(highestSeq, n.seq)));
    let disconnects = 0;
    client.socket.on('disconnect', () => disconnects++);

    const sent: string[] = [];
    try {
      for (const i of range(TOTAL)) {
        if (DROP_AT.includes(i)) {
          // Mid-stream: the transport dies as a sleeping laptop's would.
          cutOff = true;
          storedSinceCut = 0;
          client.socket.io.engine.close();
        }
        const res = await push(server.url, { tokens: [user], data: i });
        expect(res.status).toBe(202);
        sent.push(res.body.id as string);
        storedSinceCut++;
        // A steady stream, not a burst.
        await sleep(3);
      }
    } finally {
      pushing = false;
    }
    // The last push is on the wire after the ones before it; once it is in, all are.
    await waitForId(client, sent.at(-1)!, 15_000);

    expect(disconnects).toBe(DROP_AT.length);
    expect(tally(sent, client.received)).toEqual(exactlyOnceInOrder(sent));
    expect(client.received.map((n) => n.data)).toEqual(range(TOTAL));
    // Each reconnect caught up through replay what it missed.
    expect(client.synced).toHaveLength(1 + DROP_AT.length);
    for (const s of client.synced.slice(1)) expect(s.replayed).toBeGreaterThanOrEqual(GAP);
    const replayed = client.received.filter((n) => (n as { replay?: boolean }).replay).length;
    expect(replayed).toBe(client.synced.reduce((sum, s) => sum + s.replayed, 0));
  });
});

describe('a server killed between push and connect', () => {
  let dataDir: string;
  const servers: TestServer[] = [];
  const open: ConnectedClient[] = [];

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'herald-restart-'));
  });

  const boot = async () => {
    const s = await startServer({ mode: 'production', dataDir });
    servers.push(s);
    return s;
  };

  afterAll(async () => {
    for (const c of open) c.close();
    for (const s of servers) await s.kill();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses nothing it accepted when killed with SIGKILL and restarted on the same data', async () => {
    const first = await boot();
    const sent = await pushSequentially(first.url, 'cu-kill', 30);
    await first.kill();
    expect(first.process.signalCode).toBe('SIGKILL');

    const second = await boot();
    const client = await connectClient(second.url, { token: await tokenFor('cu-kill'), lastSeq: 0 });
    open.push(client);
    expect(tally(sent, client.received)).toEqual(exactlyOnceInOrder(sent));
    expect(client.received.map((n) => n.data)).toEqual(range(30));
    expect(client.synced[0]).toMatchObject({ replayed: 30, unread: 30 });

    // The sequence carries on after the restart: a newer notification never gets an older seq.
    const live = await push(second.url, { tokens: ['cu-kill'], data: 'after restart' });
    await waitForId(client, live.body.id as string);
    expect(client.received.at(-1)!.seq).toBeGreaterThan(client.received[29]!.seq);

    // A client that had seen part of it before the crash gets the rest, once.
    const resumed = await connectClient(second.url, { token: await tokenFor('cu-kill'), lastSeq: client.received[9]!.seq });
    open.push(resumed);
    expect(resumed.received.map((n) => n.id)).toEqual([...sent.slice(10), live.body.id]);
  });

  it('keeps every push it answered 202 when killed in the middle of a burst', async () => {
    const server = await boot();
    const accepted: string[] = [];
    let killing: Promise<void> | undefined;
    const attempts = range(80).map(async (i) => {
      try {
        const res = await push(server.url, { tokens: ['cu-burst'], data: i });
        if (res.status === 202) accepted.push(res.body.id as string);
        if (accepted.length >= 20) killing ??= server.kill();
      } catch {
        // Cut off by the kill: not accepted, so not promised.
      }
    });
    await Promise.all(attempts);
    await (killing ?? server.kill());
    expect(accepted.length).toBeGreaterThanOrEqual(20);

    const next = await boot();
    const client = await connectClient(next.url, { token: await tokenFor('cu-burst'), lastSeq: 0 });
    open.push(client);
    const got = new Set(client.received.map((n) => n.id));
    expect(accepted.filter((id) => !got.has(id))).toEqual([]);
    const t = tally(accepted, client.received);
    expect(t).toMatchObject({ delivered: accepted.length, duplicated: 0, reordered: 0 });
  });

  it('exits 0 on SIGTERM with clients connected, and they see the disconnect', async () => {
    const server = await boot();
    const client = await connectClient(server.url, { token: await tokenFor('cu-term') });
    open.push(client);
    const gone = new Promise<string>((resolve) => client.socket.once('disconnect', (reason) => resolve(reason)));
    expect(await server.stop()).toBe(0);
    expect(await gone).toMatch(/disconnect|close/);
  });
});

describe('retention', () => {
  let server: TestServer;
  const open: ConnectedClient[] = [];

  beforeAll(async () => {
    server = await startServer({ mode: 'production', env: { INBOX_MAX_PER_USER: '5', INBOX_SWEEP_INTERVAL_MS: '1000' } });
  });

  afterAll(async () => {
    for (const c of open) c.close();
    await server?.stop();
    server?.cleanup();
  });

  const connect = async (lastSeq: number) => {
    const client = await connectClient(server.url, { token: await tokenFor('cu-ret'), lastSeq });
    open.push(client);
    return client;
  };

  it('answers a lastSeq older than retention kept with sync_reset, and replays from the retained ones', async () => {
    const live = await connectClient(server.url, { token: await tokenFor('cu-ret') });
    open.push(live);
    const sent = await pushSequentially(server.url, 'cu-ret', 12);
    await waitForId(live, sent.at(-1)!);
    const seqs = live.received.map((n) => n.seq);
    expect(seqs).toHaveLength(12);

    // The sweep keeps the newest 5 (seqs[7..11]); seqs[6] is the newest that went.
    let kept: string[] = [];
    await eventuallyAsync(async () => {
      const res = await request(server.url, '/api/notifications?userId=cu-ret&limit=100', {
        headers: { authorization: `Bearer ${TEST_PUSH_KEY}` },
      });
      kept = (res.body.items as WireNotification[]).map((n) => n.id);
      return kept.length === 5;
    }, 10_000);
    expect(kept).toEqual(sent.slice(7).reverse());

    for (const stale of [0, seqs[0]!, seqs[5]!]) {
      const client = await connect(stale);
      expect(client.received).toEqual([]);
      expect(client.events.map((e) => e.event)).toEqual(['sync_reset', 'notifications:synced']);
      expect(client.events[0]!.payload).toEqual({ headSeq: seqs[11] });
      expect(client.synced[0]).toMatchObject({ replayed: 0, headSeq: seqs[11] });
    }

    // Having seen everything that was pruned, a client is not reset: it gets the rest.
    const current = await connect(seqs[6]!);
    expect(current.events.map((e) => e.event)).not.toContain('sync_reset');
    expect(current.received.map((n) => n.id)).toEqual(sent.slice(7));
  });
});
