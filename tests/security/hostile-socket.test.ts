import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { get as httpGet } from 'node:http';
import { io } from 'socket.io-client';
import { signUserToken } from '../../lib/auth';
import type { Ack, WireNotification } from '../../lib/contract';
import { push, request, startServer, TEST_AUTH_SECRET, tokenFor, type TestServer } from '../support/server';
import WebSocket from 'ws';
import { connectRaw, openRaw, waitForEvent, wsUrl, type RawClient } from '../support/rawSocket';
import { eventually, waitFor, type TestSocket } from '../support/socket';

/**
 * Hostile socket clients against the real server: oversized and malformed
 * frames, floods, connection caps, forged and expiring tokens, foreign origins.
 * Each is refused or cut off with a stable code, and a well-behaved client on
 * the same server, connected from another address, receives every notification
 * pushed to it meanwhile (one after every test), exactly once and in order.
 *
 * Every test connects from its own loopback address (127.0.0.x): the per-address
 * cap counts each separately, so no test eats into another's allowance.
 */

const KIB = 1024;
const USER_CAP = 3;
const ADDRESS_CAP = 4;
const ALLOWED = 'https://app.example';

let main: TestServer;
let guarded: TestServer;
const opened: Array<{ close(): void }> = [];

let addresses = 0;
/** A loopback source address no other test uses (the watchers use 127.0.0.2). */
const freshAddress = () => {
  const n = addresses++;
  return `127.1.${Math.floor(n / 250)}.${(n % 250) + 1}`;
};

/** A socket.io-client socket that records every event, including its own disconnect, in order. */
interface SioClient {
  socket: TestSocket;
  events: Array<{ event: string; payload: unknown }>;
  received: WireNotification[];
}

function sio(server: TestServer, token: string, opts: { localAddress?: string; lastSeq?: number; keep?: boolean } = {}): SioClient {
  const socket: TestSocket = io(server.url, {
    auth: { token, ...(opts.lastSeq !== undefined ? { lastSeq: opts.lastSeq } : {}) },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 10_000,
    // Passed through to `ws` (not in socket.io-client's types).
    ...({ localAddress: opts.localAddress ?? freshAddress() } as object),
  });
  const client: SioClient = { socket, events: [], received: [] };
  socket.onAny((event: string, payload: unknown) => client.events.push({ event, payload }));
  socket.on('receive_message', (n) => client.received.push(n));
  socket.on('disconnect', (reason) => client.events.push({ event: 'disconnect', payload: reason }));
  // Closed after the test, unless kept (the watchers).
  if (!opts.keep) opened.push({ close: () => socket.close() });
  return client;
}

/** Connects and waits for catch-up; rejects with the connect_error message. */
async function sioConnected(
  server: TestServer,
  userId: string,
  opts: { localAddress?: string; ttlSeconds?: number; keep?: boolean } = {},
): Promise<SioClient> {
  const client = sio(server, await tokenFor(userId, opts.ttlSeconds ?? 3600), opts);
  await new Promise<void>((resolve, reject) => {
    client.socket.once('notifications:synced', () => resolve());
    client.socket.once('connect_error', (err) => {
      client.socket.close();
      reject(new Error(err.message));
    });
  });
  return client;
}

/** Resolves the connect_error message; fails if the socket connects. */
async function refusal(server: TestServer, token: string, localAddress?: string): Promise<string> {
  const client = sio(server, token, { localAddress });
  return new Promise<string>((resolve, reject) => {
    client.socket.once('connect', () => {
      client.socket.close();
      reject(new Error('connected, but a refusal was expected'));
    });
    client.socket.once('connect_error', (err) => {
      client.socket.close();
      resolve(err.message);
    });
  });
}

async function raw(server: TestServer, userId: string, localAddress = freshAddress()): Promise<RawClient> {
  const client = await connectRaw(server.url, { token: await tokenFor(userId) }, { localAddress });
  opened.push(client);
  return client;
}

/** A round trip on a raw socket: emits notifications:list with an ack id and resolves the ack. */
async function roundTrip(client: RawClient, ackId: number): Promise<Ack<{ items: unknown[] }>> {
  client.send(`42${ackId}["notifications:list",{"limit":1}]`);
  const frame = await client.waitFor((f) => f.startsWith(`43${ackId}[`));
  return (JSON.parse(frame.slice(2 + String(ackId).length)) as [Ack<{ items: unknown[] }>])[0];
}

/**
 * The well-behaved client: a socket.io-client socket for its own user, from an
 * address no hostile client uses. `beat()` pushes it one notification and waits
 * for it; `verify()` checks it got every one, once, in order, and never dropped.
 */
class Watcher {
  client!: SioClient;
  readonly sent: string[] = [];
  constructor(
    readonly server: () => TestServer,
    readonly userId: string,
  ) {}

  async connect(): Promise<void> {
    this.client = await sioConnected(this.server(), this.userId, { localAddress: '127.0.0.2', keep: true });
  }

  async beat(): Promise<void> {
    const res = await push(this.server().url, { tokens: [this.userId], data: { beat: this.sent.length + 1 } });
    expect(res.status).toBe(202);
    this.sent.push(res.body.id as string);
    await eventually(() => this.client.received.some((n) => n.id === res.body.id), 5_000);
  }

  verify(): void {
    expect(this.client.received.map((n) => n.id)).toEqual(this.sent);
    expect(this.client.events.filter((e) => e.event === 'disconnect' || e.event === 'herald:error')).toEqual([]);
    expect(this.client.socket.connected).toBe(true);
  }
}

const watcher = new Watcher(() => main, 'watcher-main');
const guardedWatcher = new Watcher(() => guarded, 'watcher-guarded');

beforeAll(async () => {
  [main, guarded] = await Promise.all([
    startServer({ mode: 'production', env: { MAX_CONNECTIONS_PER_USER: String(USER_CAP) } }),
    startServer({ mode: 'production', env: { ALLOWED_ORIGINS: ALLOWED, MAX_CONNECTIONS_PER_IP: String(ADDRESS_CAP) } }),
  ]);
  await Promise.all([watcher.connect(), guardedWatcher.connect()]);
});

afterEach(async () => {
  for (const c of opened.splice(0)) c.close();
  // After every attack, both well-behaved clients still get what is pushed to them.
  await Promise.all([watcher.beat(), guardedWatcher.beat()]);
});

afterAll(async () => {
  watcher.client?.socket.close();
  guardedWatcher.client?.socket.close();
  await Promise.all([main?.stop(), guarded?.stop()]);
  main?.cleanup();
  guarded?.cleanup();
});

describe('oversized frames', () => {
  it('closes a WebSocket that sends a frame over 32 KiB, and keeps one that sends 30 KiB', async () => {
    const small = await raw(main, 'big-1');
    small.send(`421["notifications:list",{"pad":"${'x'.repeat(30 * KIB)}"}]`);
    expect(JSON.parse((await small.waitFor((f) => f.startsWith('431['))).slice(3))).toEqual([
      { ok: false, error: 'validation_failed', message: expect.any(String) },
    ]);
    expect(small.isClosed()).toBe(false);

    const big = await raw(main, 'big-2');
    big.send(`421["notifications:list",{"pad":"${'x'.repeat(40 * KIB)}"}]`);
    const { code } = await big.closed;
    // 1009: message too big (ws enforces maxPayload = maxHttpBufferSize).
    expect(code).toBe(1009);
    expect(big.frames.some((f) => typeof f === 'string' && f.startsWith('431['))).toBe(false);
  });

  it('answers a polling POST over 32 KiB with 413 and never processes it', async () => {
    const base = `${main.url}/socket.io/?EIO=4&transport=polling`;
    const open = await fetch(base);
    expect(open.status).toBe(200);
    const sid = (JSON.parse((await open.text()).slice(1)) as { sid: string }).sid;
    const token = await tokenFor('big-polling');
    const oversized = await fetch(`${base}&sid=${sid}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: `40${JSON.stringify({ token, pad: 'x'.repeat(40 * KIB) })}`,
    });
    expect(oversized.status).toBe(413);
    // Nothing of it was read: the session is still waiting for its CONNECT, and a normal one works.
    const connect = await fetch(`${base}&sid=${sid}`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: `40${JSON.stringify({ token })}` });
    expect(connect.status).toBe(200);
    const answer = await (await fetch(`${base}&sid=${sid}`)).text();
    expect(answer).toMatch(/^40\{"sid":/);
    await fetch(`${base}&sid=${sid}`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: '1' });
  });
});

describe('malformed packets', () => {
  const closing: Array<[string, (c: RawClient) => void]> = [
    ['an event name that is an object', (c) => c.send('42[{"toString":"x"},1]')],
    ['an event name that is null', (c) => c.send('42[null]')],
    ['an empty event array', (c) => c.send('42[]')],
    ['a reserved event name (disconnect)', (c) => c.send('42["disconnect"]')],
    ['an event whose JSON is cut off', (c) => c.send('42["notifications:list",{"limit":')],
    ['an event that is not an array', (c) => c.send('42{"event":"notifications:list"}')],
    ['an unknown socket.io packet type', (c) => c.send('49["x"]')],
    ['an unknown Engine.IO packet type', (c) => c.send('9hello')],
    ['an empty socket.io packet', (c) => c.send('4')],
    [
      'a binary attachment index out of range',
      (c) => {
        c.send('451-["notifications:read",{"_placeholder":true,"num":7}]');
        c.send(Buffer.from([1, 2, 3]));
      },
    ],
    ['a negative attachment count', (c) => c.send('45-1-["notifications:read",{"_placeholder":true,"num":0}]')],
    ['an attachment count that is not a number', (c) => c.send('45x-["notifications:read",{"_placeholder":true,"num":0}]')],
    ['more attachments than allowed (11)', (c) => c.send('4511-["notifications:read",{"_placeholder":true,"num":0}]')],
    ['a binary frame nobody announced', (c) => c.send(Buffer.from('not expected'))],
    [
      'a binary event nested 15,000 levels deep',
      (c) => {
        c.send(`451-["notifications:read",${'['.repeat(15_000)}{"_placeholder":true,"num":0}${']'.repeat(15_000)}]`);
        c.send(Buffer.from([0]));
      },
    ],
    ['a second CONNECT to the main namespace whose auth is a string', (c) => c.send('40"token"')],
  ];

  it.each(closing)('closes the connection on %s, and the server carries on', async (_, attack) => {
    const client = await raw(main, 'malformed');
    attack(client);
    await client.closed;
    expect(main.process.exitCode).toBeNull();
  });

  const harmless: Array<[string, (c: RawClient) => void]> = [
    ['an event name that is a number', (c) => c.send('42[123,"x"]')],
    ['an event nobody handles', (c) => c.send('42["admin:delete-all",{"everyone":true}]')],
    ['an ack for an id the server never sent', (c) => c.send('4399[{"ok":true}]')],
    ['an event payload nested 15,000 levels deep', (c) => c.send(`427["notifications:list",${'['.repeat(15_000)}${']'.repeat(15_000)}]`)],
    ['user_login for another user without a token', (c) => c.send('428["user_login",{"userId":"watcher-main"}]')],
  ];

  it.each(harmless)('ignores or refuses %s and keeps serving that connection', async (_, attack) => {
    const client = await raw(main, 'odd');
    attack(client);
    expect(await roundTrip(client, 1)).toMatchObject({ ok: true, items: [] });
    expect(client.isClosed()).toBe(false);
  });

  it('answers a namespace that does not exist with a refusal and keeps the main one working', async () => {
    const client = await raw(main, 'nsp');
    client.send(`40/admin,${JSON.stringify({ token: await tokenFor('nsp') })}`);
    expect(await client.waitFor((f) => f.startsWith('44/admin,'))).toBe('44/admin,{"message":"Invalid namespace"}');
    expect(await roundTrip(client, 2)).toMatchObject({ ok: true });
  });

  it('closes a connection that sends an event before joining a namespace', async () => {
    const client = await openRaw(main.url, { localAddress: freshAddress() });
    opened.push(client);
    client.send('42["notifications:list",{}]');
    await client.closed;
    expect(client.frames.filter((f) => typeof f === 'string' && f.startsWith('43'))).toEqual([]);
  });
});

describe('event floods', () => {
  it('cuts off a socket that sends 200 notifications:list at once with herald:error rate_limited, leaving the user’s other tab alone', async () => {
    const calm = await sioConnected(main, 'flooder');
    const flooder = await sioConnected(main, 'flooder');
    for (let i = 0; i < 200; i++) flooder.socket.emit('notifications:list', {}, () => undefined);
    await waitFor(flooder.socket, 'disconnect');
    const names = flooder.events.map((e) => e.event).filter((e) => e === 'herald:error' || e === 'disconnect');
    expect(names).toEqual(['herald:error', 'disconnect']);
    expect(flooder.events.find((e) => e.event === 'herald:error')?.payload).toEqual({ code: 'rate_limited', message: expect.any(String) });
    expect(flooder.events.find((e) => e.event === 'disconnect')?.payload).toBe('io server disconnect');

    // The same user's other socket is untouched and still gets notifications.
    const res = await push(main.url, { tokens: ['flooder'], data: 'still here' });
    await eventually(() => calm.received.some((n) => n.id === res.body.id));
    expect(calm.socket.connected).toBe(true);
    expect(calm.events.map((e) => e.event)).not.toContain('herald:error');
  });

  it.each([
    ['events nobody handles', (i: number) => `42["nope",${i}]`],
    ['acks for ids the server never sent', (i: number) => `43${i + 1}[]`],
    ['CONNECT packets to a namespace that does not exist', () => '40/admin,{}'],
  ])('cuts off a raw socket that floods 200 %s', async (_, frame) => {
    const client = await raw(main, 'raw-flooder');
    for (let i = 0; i < 200; i++) client.send(frame(i));
    await client.closed;
    expect(client.frames).toContainEqual(expect.stringMatching(/^42\["herald:error",\{"code":"rate_limited"/));
  });
});

describe('connection caps', () => {
  it(`refuses a ${USER_CAP + 1}th socket for one user with too_many_connections, and admits one again after a tab closes`, async () => {
    const tabs: SioClient[] = [];
    for (let i = 0; i < USER_CAP; i++) tabs.push(await sioConnected(main, 'capped'));
    expect(await refusal(main, await tokenFor('capped'))).toBe('too_many_connections');
    // Other users are not affected.
    await sioConnected(main, 'not-capped');

    tabs[0]!.socket.close();
    // The server notices the close a moment later: retry (bounded) until admitted.
    let admitted: SioClient | undefined;
    for (let i = 0; i < 50 && !admitted; i++) {
      admitted = await sioConnected(main, 'capped').catch(async (err: Error) => {
        expect(err.message).toBe('too_many_connections');
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(admitted?.socket.connected).toBe(true);
  });

  it(`admits exactly ${USER_CAP} of 10 sockets one user opens at the same moment`, async () => {
    const token = await tokenFor('racer');
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => {
        const client = sio(main, token);
        return new Promise<string>((resolve) => {
          client.socket.once('notifications:synced', () => resolve('synced'));
          client.socket.once('connect_error', (err) => resolve(err.message));
          client.socket.once('disconnect', () => resolve('disconnected'));
        });
      }),
    );
    expect(outcomes.filter((o) => o === 'synced')).toHaveLength(USER_CAP);
    expect(outcomes.filter((o) => o !== 'synced')).toEqual(Array(10 - USER_CAP).fill('too_many_connections'));
  });

  it(`refuses a ${ADDRESS_CAP + 1}th socket from one address with too_many_connections, while another address connects`, async () => {
    const address = freshAddress();
    for (let i = 0; i < ADDRESS_CAP; i++) await sioConnected(guarded, `ip-${i}`, { localAddress: address });
    expect(await refusal(guarded, await tokenFor('ip-extra'), address)).toBe('too_many_connections');
    // A raw client is refused the same way.
    await expect(connectRaw(guarded.url, { token: await tokenFor('ip-raw') }, { localAddress: address })).rejects.toThrow('too_many_connections');
    const elsewhere = await sioConnected(guarded, 'ip-extra', { localAddress: freshAddress() });
    expect(elsewhere.socket.connected).toBe(true);
  });

  it(`caps raw Engine.IO connections that never send CONNECT at ${2 * ADDRESS_CAP} per address (twice the socket cap)`, async () => {
    const address = freshAddress();
    const silent: RawClient[] = [];
    for (let i = 0; i < 2 * ADDRESS_CAP; i++) {
      const client = await openRaw(guarded.url, { localAddress: address });
      opened.push(client);
      silent.push(client);
    }
    // The handshake of one more is refused, with 429 and Herald's error envelope.
    await expect(openRaw(guarded.url, { localAddress: address })).rejects.toThrow(/Unexpected server response: 429/);
    expect(await upgrade(guarded, undefined, address)).toEqual({
      status: 429,
      body: { error: { code: 'too_many_connections', message: expect.any(String) } },
    });
    expect(await pollingHandshakeFrom(guarded, address)).toEqual({
      status: 429,
      body: { error: { code: 'too_many_connections', message: expect.any(String) } },
    });
    // Another address is not affected.
    opened.push(await openRaw(guarded.url, { localAddress: freshAddress() }));
    // One closes, and the address may open one again (once the server has seen the close: 20 tries, 100 ms apart).
    silent[0]?.close();
    await silent[0]?.closed;
    let again: RawClient | undefined;
    for (let attempt = 0; attempt < 20 && !again; attempt++) {
      again = await openRaw(guarded.url, { localAddress: address }).catch(() => undefined);
      if (!again) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(again).toBeDefined();
    if (again) opened.push(again);
  });
});

describe('tokens', () => {
  const now = () => Math.floor(Date.now() / 1000);

  it.each([
    ['a token signed with another secret', () => signUserToken('another-secret-another-secret-0123456789', 'victim', 3600), 'unauthorized'],
    ['an expired token', () => signUserToken(TEST_AUTH_SECRET, 'victim', 60, now() - 3600), 'token_expired'],
    ['a token cut short', async () => (await tokenFor('victim')).slice(0, -2), 'unauthorized'],
  ])('refuses a raw CONNECT with %s', async (_, token, code) => {
    await expect(connectRaw(main.url, { token: await token() }, { localAddress: freshAddress() })).rejects.toThrow(code);
  });

  it('refuses many forged tokens in a row on one connection without letting one in', async () => {
    const client = await openRaw(main.url, { localAddress: freshAddress() });
    opened.push(client);
    for (let i = 0; i < 20; i++) client.send(`40${JSON.stringify({ token: await signUserToken(`forged-secret-forged-secret-${i}-0123456789`, 'watcher-main', 3600) })}`);
    await eventually(() => client.frames.filter((f) => typeof f === 'string' && f.startsWith('44')).length === 20 || client.isClosed());
    expect(client.frames.filter((f) => typeof f === 'string' && f.startsWith('40'))).toEqual([]);
  });

  it('keeps users named after Object.prototype members apart', async () => {
    const proto = await sioConnected(main, '__proto__');
    const ctor = await sioConnected(main, 'constructor');
    const res = await push(main.url, { tokens: ['__proto__'], data: 'for __proto__' });
    expect(res.body).toMatchObject({ recipients: 1, online: 1 });
    await eventually(() => proto.received.length === 1);
    const marker = await push(main.url, { tokens: ['constructor'], data: 'marker' });
    await eventually(() => ctor.received.some((n) => n.id === marker.body.id));
    expect(ctor.received.map((n) => n.data)).toEqual(['marker']);
  });

  it(
    'cuts off a socket whose token expires with herald:error token_expired, keeps one refreshed with auth:refresh, and refuses a refresh for another user',
    async () => {
      const ttl = 2;
      const [lapsed, refreshed, hijacker] = await Promise.all([
        sioConnected(main, 'exp-lapsed', { ttlSeconds: ttl }),
        sioConnected(main, 'exp-refreshed', { ttlSeconds: ttl }),
        sioConnected(main, 'exp-hijacker', { ttlSeconds: ttl }),
      ]);
      type RefreshAck = Ack<{ exp: number }>;
      const refresh = (c: SioClient, token: string) => c.socket.timeout(5_000).emitWithAck('auth:refresh', { token }) as Promise<RefreshAck>;

      const fresh = await refresh(refreshed, await tokenFor('exp-refreshed', 3600));
      expect(fresh).toEqual({ ok: true, exp: expect.any(Number) });
      expect((fresh as { exp: number }).exp).toBeGreaterThan(now() + 3000);

      // Another user's valid token, a forged one and an expired one: refused, and nothing changes.
      expect(await refresh(hijacker, await tokenFor('exp-victim', 3600))).toEqual({ ok: false, error: 'unauthorized', message: expect.any(String) });
      expect(await refresh(hijacker, await signUserToken('another-secret-another-secret-0123456789', 'exp-hijacker', 3600))).toMatchObject({
        ok: false,
        error: 'unauthorized',
      });
      expect(await refresh(hijacker, await signUserToken(TEST_AUTH_SECRET, 'exp-hijacker', 60, now() - 3600))).toMatchObject({
        ok: false,
        error: 'token_expired',
      });
      expect(await refresh(hijacker, { token: 'x' } as unknown as string)).toMatchObject({ ok: false, error: 'validation_failed' });

      // The expiry sweep runs every 10 s: both unrefreshed sockets go within ~12 s of exp.
      await eventually(() => [lapsed, hijacker].every((c) => c.events.some((e) => e.event === 'disconnect')), 20_000, 100);
      for (const c of [lapsed, hijacker]) {
        const seq = c.events.map((e) => e.event).filter((e) => e === 'herald:error' || e === 'disconnect');
        expect(seq).toEqual(['herald:error', 'disconnect']);
        expect(c.events.find((e) => e.event === 'herald:error')?.payload).toEqual({ code: 'token_expired', message: expect.any(String) });
      }

      // The refreshed one outlived that sweep: a round trip and a push still reach it.
      const page = (await refreshed.socket.timeout(5_000).emitWithAck('notifications:list', {})) as Ack<unknown>;
      expect(page.ok).toBe(true);
      const res = await push(main.url, { tokens: ['exp-refreshed', 'exp-victim'], data: 'after expiry' });
      await eventually(() => refreshed.received.some((n) => n.id === res.body.id));
      expect(refreshed.socket.connected).toBe(true);
      expect(refreshed.events.map((e) => e.event)).not.toContain('herald:error');
      expect(hijacker.received.map((n) => n.id)).not.toContain(res.body.id);
    },
    40_000,
  );
});

/** 'open', or the refusal's status and its body (JSON when it parses). */
function upgrade(server: TestServer, origin?: string, localAddress = freshAddress()): Promise<'open' | { status: number | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(server.url), { localAddress, ...(origin ? { origin } : {}) });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      const done = () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode, body });
      };
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', done);
      res.on('error', done);
    });
    ws.once('error', (err) => {
      if (!err.message.startsWith('Unexpected server response')) reject(err);
    });
  });
}

/** A polling handshake from a given local address (fetch cannot choose one): status and JSON body. */
function pollingHandshakeFrom(server: TestServer, localAddress: string): Promise<{ status: number | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port: server.port, path: '/socket.io/?EIO=4&transport=polling', localAddress }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) as unknown }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('polling handshake: no answer in 5 s')));
  });
}

const originRefused = { error: { code: 'origin_not_allowed', message: expect.any(String) } };

describe('origins', () => {
  const polling = (server: TestServer, origin?: string) =>
    request(server.url, '/socket.io/?EIO=4&transport=polling', { headers: origin ? { origin } : {} });


  it.each(['https://evil.example', 'null', 'http://127.0.0.1.evil.example'])('refuses Origin %s on polling (403) and on the WebSocket upgrade', async (origin) => {
    const res = await polling(main, origin);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(originRefused);
    expect(await upgrade(main, origin)).toEqual({ status: 403, body: originRefused });
  });

  it('admits the server’s own origin and clients that send no Origin, on both transports', async () => {
    const own = `http://127.0.0.1:${main.port}`;
    expect((await polling(main, own)).status).toBe(200);
    expect((await polling(main)).status).toBe(200);
    expect(await upgrade(main, own)).toBe('open');
    expect(await upgrade(main)).toBe('open');
    const client = await connectRaw(main.url, { token: await tokenFor('same-origin') }, { origin: own, localAddress: freshAddress() });
    opened.push(client);
    expect(await waitForEvent(client, 'notifications:synced')).toMatchObject({ replayed: 0 });
  });

  it('with ALLOWED_ORIGINS, admits a listed origin and refuses the rest, the server’s own included', async () => {
    expect((await polling(guarded, ALLOWED)).status).toBe(200);
    expect(await upgrade(guarded, ALLOWED)).toBe('open');
    const client = await connectRaw(guarded.url, { token: await tokenFor('listed') }, { origin: ALLOWED, localAddress: freshAddress() });
    opened.push(client);
    expect(await waitForEvent(client, 'notifications:synced')).toMatchObject({ replayed: 0 });

    for (const origin of ['http://app.example', 'https://app.example.evil.example', 'https://evil.example', `http://127.0.0.1:${guarded.port}`]) {
      expect({ origin, status: (await polling(guarded, origin)).status }).toEqual({ origin, status: 403 });
      expect({ origin, upgrade: await upgrade(guarded, origin) }).toEqual({ origin, upgrade: { status: 403, body: originRefused } });
    }
  });
});

describe('the well-behaved clients', () => {
  it('received every notification pushed to them, once each and in order, and were never cut off', async () => {
    // One beat per test so far has run in afterEach; one more here.
    await Promise.all([watcher.beat(), guardedWatcher.beat()]);
    watcher.verify();
    guardedWatcher.verify();
    for (const server of [main, guarded]) {
      expect(server.process.exitCode).toBeNull();
      expect(server.logs.filter((l) => /"level":"error"|uncaught|unhandled/i.test(l))).toEqual([]);
    }
  });
});
