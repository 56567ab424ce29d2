import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Socket as NetSocket } from 'node:net';
import WebSocket from 'ws';
import type { Ack } from '../../lib/contract';
import { PollingSession, rawHttp } from '../support/rawPolling';
import { connectPacket, connectRaw, openRaw, waitForEvent, wsUrl, type RawClient } from '../support/rawSocket';
import { push, request, startServer, tokenFor, type TestServer } from '../support/server';
import { connectClient, eventually, type ConnectedClient } from '../support/socket';

/**
 * Attacks on identity and on the caps around it, each of which once got
 * through: two `user_login`s raced in one packet batch (a socket left in two
 * users' rooms), many CONNECTs in one polling POST (the per-user cap read from
 * room sizes, before any had joined), handshake floods with `lastSeq: 0`, and
 * the edges of the Engine.IO and HTTP surface (pong floods, JSONP, nosniff, the
 * origin of a session's upgrade, CSP on HTML under /api/, dev routes and
 * /readyz detail in production).
 *
 * Every test connects from loopback addresses of its own (127.2.x.y), so the
 * per-address limits of one test never touch another.
 */

const USER_CAP = 3;
let main: TestServer;
/** Default caps and per-user rate, and a handshake rate per address of 2/s (bursts of 20), so that limit is reached quickly. */
let strict: TestServer;
const closers: Array<() => void> = [];

let addresses = 0;
const freshAddress = () => {
  const n = addresses++;
  return `127.2.${Math.floor(n / 250)}.${(n % 250) + 1}`;
};

beforeAll(async () => {
  [main, strict] = await Promise.all([
    startServer({ mode: 'production', env: { MAX_CONNECTIONS_PER_USER: String(USER_CAP) } }),
    startServer({ mode: 'production', env: { HANDSHAKE_RATE_PER_IP: '2' } }),
  ]);
});

afterEach(() => {
  for (const close of closers.splice(0)) close();
});

afterAll(async () => {
  for (const server of [main, strict].filter(Boolean)) {
    // Nothing here may crash the server or make it log an error.
    expect(server.process.exitCode).toBeNull();
    expect(server.logs.filter((l) => /"level":"error"|uncaught|unhandled/i.test(l))).toEqual([]);
  }
  await Promise.all([main?.stop(), strict?.stop()]);
  main?.cleanup();
  strict?.cleanup();
});

/** A raw WebSocket client bound to `userId`, caught up. */
async function rawBound(server: TestServer, userId: string, opts: { ttlSeconds?: number } = {}): Promise<RawClient> {
  const client = await connectRaw(server.url, { token: await tokenFor(userId, opts.ttlSeconds) }, { localAddress: freshAddress() });
  closers.push(() => client.close());
  await waitForEvent(client, 'notifications:synced');
  return client;
}

/** A socket.io-client tab of `userId`, caught up, closed after the test. */
async function tab(server: TestServer, userId: string): Promise<ConnectedClient> {
  const client = await connectClient(server.url, { token: await tokenFor(userId) });
  closers.push(() => client.close());
  return client;
}

const loginPacket = (ackId: number, token: string) => `42${ackId}${JSON.stringify(['user_login', { token }])}`;
const ackOf = (packets: readonly (string | Buffer)[], ackId: number): Ack<{ userId: string }> | undefined => {
  const frame = packets.find((p): p is string => typeof p === 'string' && p.startsWith(`43${ackId}[`));
  return frame === undefined ? undefined : (JSON.parse(frame.slice(2 + String(ackId).length)) as [Ack<{ userId: string }>])[0];
};
const notificationIds = (packets: readonly (string | Buffer)[]): string[] =>
  packets
    .filter((p): p is string => typeof p === 'string' && p.startsWith('42["receive_message"'))
    .map((p) => (JSON.parse(p.slice(2)) as [string, { id: string }])[1].id);

/** Sends both frames to the server in one TCP write, so it reads them in one turn. */
function sendTogether(client: RawClient, frames: string[]): void {
  const tcp = (client.ws as unknown as { _socket: NetSocket })._socket;
  tcp.cork();
  for (const frame of frames) client.send(frame);
  process.nextTick(() => tcp.uncork());
}

/**
 * Pushes to `notMine` first, then to `mine`, and waits for `mine`'s to arrive:
 * a socket gets its notifications in commit order, so had `notMine`'s been
 * coming, it would have come first.
 */
async function onlyMineArrives(server: TestServer, packets: () => readonly (string | Buffer)[], poll: () => Promise<unknown>, mine: string, notMine: string) {
  const theirs = await push(server.url, { tokens: [notMine], data: `for ${notMine}` });
  const ours = await push(server.url, { tokens: [mine], data: `for ${mine}` });
  expect([theirs.status, ours.status]).toEqual([202, 202]);
  for (let i = 0; i < 50 && !notificationIds(packets()).includes(ours.body.id as string); i++) await poll();
  expect(notificationIds(packets())).toEqual([ours.body.id]);
}

describe('user_login races', () => {
  it('leaves a socket in exactly one user room when two user_login frames arrive in one WebSocket write', async () => {
    const victim = await tab(main, 'race-ws-victim');
    const attacker = await rawBound(main, 'race-ws-attacker-1');
    sendTogether(attacker, [loginPacket(1, await tokenFor('race-ws-victim')), loginPacket(2, await tokenFor('race-ws-attacker-2'))]);
    await eventually(() => ackOf(attacker.frames, 1) !== undefined && ackOf(attacker.frames, 2) !== undefined);
    expect(ackOf(attacker.frames, 1)).toEqual({ ok: true, userId: 'race-ws-victim' });
    expect(ackOf(attacker.frames, 2)).toEqual({ ok: true, userId: 'race-ws-attacker-2' });
    // The last login won; the victim's room does not hold the attacker's socket any more.
    attacker.frames.length = 0;
    await onlyMineArrives(main, () => attacker.frames, () => new Promise((r) => setTimeout(r, 100)), 'race-ws-attacker-2', 'race-ws-victim');
    await eventually(() => victim.received.length === 1);
  });

  it('leaves a socket in exactly one user room when two user_login packets arrive in one polling POST', async () => {
    const session = await PollingSession.open(main.port, { localAddress: freshAddress() });
    closers.push(() => void session.close());
    await session.send([connectPacket({ token: await tokenFor('race-poll-attacker-1') })]);
    await session.pollUntil((p) => p.some((x) => x.startsWith('42["notifications:synced"')));
    await session.send([loginPacket(1, await tokenFor('race-poll-victim')), loginPacket(2, await tokenFor('race-poll-attacker-2'))]);
    await session.pollUntil((p) => ackOf(p, 1) !== undefined && ackOf(p, 2) !== undefined);
    expect(ackOf(session.packets, 2)).toEqual({ ok: true, userId: 'race-poll-attacker-2' });
    session.packets.length = 0;
    await onlyMineArrives(main, () => session.packets, () => session.poll(), 'race-poll-attacker-2', 'race-poll-victim');
  });

  it(
    'cuts a re-bound socket off when the token that bound its room expires, whatever it held before',
    async () => {
      const attacker = await rawBound(main, 'exp-rebind-attacker', { ttlSeconds: 3600 });
      // The attacker's long-lived token first, then the victim's short-lived one: the room is the victim's.
      sendTogether(attacker, [loginPacket(1, await tokenFor('exp-rebind-attacker-2', 3600)), loginPacket(2, await tokenFor('exp-rebind-victim', 2))]);
      await eventually(() => ackOf(attacker.frames, 2) !== undefined);
      expect(ackOf(attacker.frames, 2)).toEqual({ ok: true, userId: 'exp-rebind-victim' });
      // The expiry sweep runs every 10 s.
      const cut = await attacker.waitFor((f) => f.startsWith('42["herald:error"'), 20_000);
      expect(JSON.parse(cut.slice(2))).toEqual(['herald:error', { code: 'token_expired', message: expect.any(String) }]);
      await attacker.closed;
    },
    30_000,
  );

  it(`applies the per-user cap of ${USER_CAP} to a re-bind as to a handshake`, async () => {
    for (let i = 0; i < USER_CAP; i++) await tab(main, 'cap-victim');
    const attacker = await rawBound(main, 'cap-attacker');
    attacker.send(loginPacket(1, await tokenFor('cap-victim')));
    await eventually(() => ackOf(attacker.frames, 1) !== undefined);
    expect(ackOf(attacker.frames, 1)).toEqual({ ok: false, error: 'too_many_connections' });
    // Refused, it stays what it was.
    attacker.frames.length = 0;
    await onlyMineArrives(main, () => attacker.frames, () => new Promise((r) => setTimeout(r, 100)), 'cap-attacker', 'cap-victim');
  });

  it('frees the old user’s place when a socket re-binds, so that user can connect again', async () => {
    const others = [];
    for (let i = 0; i < USER_CAP - 1; i++) others.push(await tab(main, 'move-from'));
    const moving = await rawBound(main, 'move-from');
    await expect(tab(main, 'move-from')).rejects.toThrow('too_many_connections');
    moving.send(loginPacket(1, await tokenFor('move-to')));
    await eventually(() => ackOf(moving.frames, 1) !== undefined);
    expect(ackOf(moving.frames, 1)).toEqual({ ok: true, userId: 'move-to' });
    expect((await tab(main, 'move-from')).socket.connected).toBe(true);
  });
});

describe('CONNECT batches', () => {
  it('admits one socket of 150 CONNECT packets in one polling POST, keeps the user able to connect, and writes each push once', async () => {
    const session = await PollingSession.open(main.port, { localAddress: freshAddress() });
    closers.push(() => void session.close());
    const token = await tokenFor('batch-user');
    await session.send(Array.from({ length: 150 }, () => connectPacket({ token })));
    const answers = (p: string[]) => p.filter((x) => x.startsWith('40') || x.startsWith('44'));
    await session.pollUntil((p) => answers(p).length === 150);
    const connected = answers(session.packets).filter((x) => x.startsWith('40'));
    const refused = answers(session.packets).filter((x) => x.startsWith('44'));
    expect(connected).toHaveLength(1);
    expect(new Set(refused.map((x) => (JSON.parse(x.slice(2)) as { message: string }).message))).toEqual(new Set(['too_many_connections']));

    // A fresh, valid handshake for that user is still admitted.
    const fresh = await tab(main, 'batch-user');
    const res = await push(main.url, { tokens: ['batch-user'], data: 'once' });
    await session.pollUntil((p) => notificationIds(p).includes(res.body.id as string));
    expect(notificationIds(session.packets).filter((id) => id === res.body.id)).toHaveLength(1);
    await eventually(() => fresh.received.some((n) => n.id === res.body.id));
  });
});

/** Opens a raw connection and sends CONNECT; the answer: connected, or the refusal's message and data. */
async function handshake(server: TestServer, auth: Record<string, unknown>, localAddress: string) {
  const client = await openRaw(server.url, { localAddress });
  closers.push(() => client.close());
  client.send(connectPacket(auth));
  const answer = await client.waitFor((f) => f.startsWith('40') || f.startsWith('44'));
  if (answer.startsWith('40')) return { client, refusal: undefined };
  client.close();
  return { client, refusal: JSON.parse(answer.slice(2)) as { message: string; data?: { retryAfterSeconds?: number } } };
}

describe('handshake floods', () => {
  it('refuses a flood of handshakes with lastSeq 0 for one user with rate_limited and a retry delay, and pages each replay in full', async () => {
    const user = 'flood-user';
    for (let i = 0; i < 120; i++) expect((await push(strict.url, { tokens: [user], data: { n: i } })).status).toBe(202);
    const token = await tokenFor(user);
    /** 'admitted', or the refusal's message. */
    const outcomes: string[] = [];
    let retryAfter: number | undefined;
    const started = Date.now();
    for (let i = 0; i < 40; i++) {
      // Each from an address of its own: this is the per-user limit.
      const { client, refusal } = await handshake(strict, { token, lastSeq: 0 }, freshAddress());
      if (refusal) {
        outcomes.push(refusal.message);
        retryAfter ??= refusal.data?.retryAfterSeconds;
        continue;
      }
      outcomes.push('admitted');
      // An admitted catch-up replays everything, a page at a time, then says so.
      const synced = await waitForEvent<{ replayed: number }>(client, 'notifications:synced', 10_000);
      expect(synced.replayed).toBe(120);
      expect(notificationIds(client.frames)).toHaveLength(120);
      client.close();
    }
    const seconds = (Date.now() - started) / 1000;
    const admitted = outcomes.filter((o) => o === 'admitted').length;
    // A burst of 20, then 5 per second.
    expect(admitted).toBeGreaterThanOrEqual(20);
    expect(admitted).toBeLessThanOrEqual(20 + Math.ceil(seconds * 5) + 1);
    expect(new Set(outcomes.filter((o) => o !== 'admitted'))).toEqual(new Set(['rate_limited']));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('refuses handshakes from one address past its rate, whichever users they are for, while another address connects', async () => {
    const address = freshAddress();
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => (await handshake(strict, { token: await tokenFor(`addr-flood-${i}`) }, address)).refusal?.message ?? 'admitted'),
    );
    expect(results.filter((r) => r === 'admitted').length).toBeLessThanOrEqual(22);
    expect(results.filter((r) => r === 'rate_limited').length).toBeGreaterThanOrEqual(18);
    expect((await handshake(strict, { token: await tokenFor('addr-elsewhere') }, freshAddress())).refusal).toBeUndefined();
  });
});

describe('Engine.IO frames', () => {
  it.each([
    ['pong', '3'],
    ['noop', '6'],
  ])('cuts off a socket that floods %s packets with herald:error rate_limited', async (_, packet) => {
    const client = await rawBound(main, `eio-flood-${packet}`);
    for (let i = 0; i < 200; i++) client.send(packet);
    const cut = await client.waitFor((f) => f.startsWith('42["herald:error"'));
    expect(JSON.parse(cut.slice(2))[1]).toMatchObject({ code: 'rate_limited' });
    await client.closed;
  });
});

describe('Engine.IO answers', () => {
  it('sends nosniff on polling answers and errors, and refuses JSONP polling', async () => {
    const open = await rawHttp(main.port, '/socket.io/?EIO=4&transport=polling', { localAddress: freshAddress() });
    expect(open.status).toBe(200);
    expect(open.headers['x-content-type-options']).toBe('nosniff');
    const unknown = await rawHttp(main.port, '/socket.io/?EIO=4&transport=polling&sid=not-a-session', { localAddress: freshAddress() });
    expect(unknown.status).toBe(400);
    expect(unknown.headers['x-content-type-options']).toBe('nosniff');
    const jsonp = await rawHttp(main.port, '/socket.io/?EIO=4&transport=polling&j=0', { localAddress: freshAddress() });
    expect(jsonp.status).toBe(400);
    expect(jsonp.headers['x-content-type-options']).toBe('nosniff');
    expect(JSON.parse(jsonp.text)).toEqual({ error: { code: 'validation_failed', message: expect.stringContaining('JSONP') } });
  });

  it('checks the Origin of a session’s polls and of its WebSocket upgrade, not only of its handshake', async () => {
    const address = freshAddress();
    const session = await PollingSession.open(main.port, { localAddress: address });
    closers.push(() => void session.close());
    const evil = 'https://evil.example';
    const poll = await rawHttp(main.port, session.url, { headers: { origin: evil }, localAddress: address });
    expect(poll.status).toBe(403);
    expect(JSON.parse(poll.text)).toEqual({ error: { code: 'origin_not_allowed', message: expect.any(String) } });
    const upgraded = await new Promise<number | 'open'>((resolve, reject) => {
      const ws = new WebSocket(`${wsUrl(main.url)}&sid=${encodeURIComponent(session.sid)}`, { origin: evil, localAddress: address });
      ws.once('open', () => {
        ws.terminate();
        resolve('open');
      });
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      ws.once('error', (err) => {
        if (!err.message.startsWith('Unexpected server response')) reject(err);
      });
    });
    expect(upgraded).toBe(403);
  });
});

describe('HTTP surface in production', () => {
  it('answers an unknown path under /api/ with a JSON 404, and a missing page with the Content-Security-Policy every page gets', async () => {
    const api = await request(main.url, '/api/does-not-exist');
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/^application\/json/);
    expect(api.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    const res = await fetch(`${main.url}/does-not-exist`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const csp = res.headers.get('content-security-policy') ?? '';
    // Scripts run only with this response's nonce.
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'(;|$)/);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])('answers %s /api/dev/token with 404, as for a path that does not exist', async (method) => {
    const res = await request(main.url, '/api/dev/token', {
      method,
      headers: { 'content-type': 'application/json' },
      ...(method === 'GET' || method === 'OPTIONS' ? {} : { body: { userId: 'x' } }),
    });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });
});
