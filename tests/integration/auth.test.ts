import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signUserToken } from '../../lib/auth';
import type { Ack } from '../../lib/contract';
import {
  devToken,
  push,
  request,
  startServer,
  TEST_AUTH_SECRET,
  TEST_PUSH_KEY,
  tokenFor,
  type TestServer,
} from '../support/server';
import { connectClient, connectError, idsOf, waitFor, waitForId, type ConnectedClient } from '../support/socket';

/**
 * Who may connect as whom, and who may read what: the handshake, the legacy
 * `user_login` re-bind, and the two history endpoints. Spoofing attempts must
 * fail with a stable code and must not leak a single notification.
 */

const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const secretKey = new TextEncoder().encode(TEST_AUTH_SECRET);

let prod: TestServer;
let dev: TestServer;
const open: ConnectedClient[] = [];

beforeAll(async () => {
  [prod, dev] = await Promise.all([startServer({ mode: 'production' }), startServer({ mode: 'test' })]);
});

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

afterAll(async () => {
  await Promise.all([prod?.stop(), dev?.stop()]);
  prod?.cleanup();
  dev?.cleanup();
});

async function connect(server: TestServer, token: string): Promise<ConnectedClient> {
  const client = await connectClient(server.url, { token });
  open.push(client);
  return client;
}

/** Pushes a marker to `userId` and waits for `client` to get it (see push-api.test.ts). */
async function barrier(server: TestServer, client: ConnectedClient, userId: string): Promise<string> {
  const res = await push(server.url, { tokens: [userId], entityType: 'barrier' });
  expect(res.status).toBe(202);
  await waitForId(client, res.body.id as string);
  return res.body.id as string;
}

type LoginAck = Ack<{ userId: string }>;
const login = (client: ConnectedClient, payload: Record<string, unknown>): Promise<LoginAck> =>
  client.socket.timeout(5_000).emitWithAck('user_login', payload) as Promise<LoginAck>;

describe('the socket handshake', () => {
  const forged: Array<[string, () => Promise<unknown>, string]> = [
    ['no auth at all', async () => ({}), 'unauthorized'],
    ['an empty token', async () => ({ token: '' }), 'unauthorized'],
    ['a token that is not a string', async () => ({ token: 12345 }), 'unauthorized'],
    ['a string that is not a JWT', async () => ({ token: 'not-a-jwt' }), 'unauthorized'],
    [
      'a token signed with another secret',
      async () => ({ token: await signUserToken('another-secret-another-secret-0123456789', 'auth-1', 3600) }),
      'unauthorized',
    ],
    [
      'an unsigned alg:none token',
      async () => ({ token: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'auth-1', exp: now() + 3600 })}.` }),
      'unauthorized',
    ],
    [
      'a token signed with HS512 and the right secret',
      async () => ({
        token: await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('auth-1').setExpirationTime(now() + 3600).sign(secretKey),
      }),
      'unauthorized',
    ],
    [
      'a token whose payload was swapped to another user',
      async () => {
        const [header, , signature] = (await tokenFor('auth-2')).split('.');
        return { token: `${header}.${b64url({ sub: 'auth-1', exp: now() + 3600, iat: now() })}.${signature}` };
      },
      'unauthorized',
    ],
    [
      'an expired token',
      async () => ({ token: await signUserToken(TEST_AUTH_SECRET, 'auth-1', 60, now() - 3600) }),
      'token_expired',
    ],
    [
      'a token without exp',
      async () => ({ token: await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('auth-1').sign(secretKey) }),
      'unauthorized',
    ],
    [
      'a token without sub',
      async () => ({ token: await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now() + 3600).sign(secretKey) }),
      'unauthorized',
    ],
    [
      'a token whose sub has a control character',
      async () => ({
        token: await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('auth-1\u0000').setExpirationTime(now() + 3600).sign(secretKey),
      }),
      'unauthorized',
    ],
    [
      'a token whose sub is over 128 characters',
      async () => ({
        token: await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u'.repeat(129)).setExpirationTime(now() + 3600).sign(secretKey),
      }),
      'unauthorized',
    ],
  ];

  it.each(forged)('refuses %s with connect_error %s', async (_, auth, code) => {
    expect(await connectError(prod.url, (await auth()) as Record<string, unknown>)).toBe(code);
  });

  it("does not give a user's notifications to a socket holding another user's token", async () => {
    const one = await connect(prod, await tokenFor('auth-1'));
    const two = await connect(prod, await tokenFor('auth-2'));
    const res = await push(prod.url, { tokens: ['auth-1'], data: 'for one only' });
    expect(res.status).toBe(202);
    await waitForId(one, res.body.id as string);
    const marker = await barrier(prod, two, 'auth-2');
    expect(idsOf(two)).toEqual([marker]);
  });

  it('refuses a token from the production secret on a dev-auth server', async () => {
    expect(await connectError(dev.url, { token: await tokenFor('auth-1') })).toBe('unauthorized');
  });
});

describe('dev-only forms in production mode', () => {
  it('has no /api/dev/token route', async () => {
    const res = await request(prod.url, '/api/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: { userId: '1' },
    });
    expect(res.status).toBe(404);
    expect(res.body).not.toHaveProperty('token');
  });

  it.each([{ userId: 'victim-p' }, { tokenId: 'victim-p' }])(
    'refuses user_login %o and keeps the socket bound to its own user',
    async (payload) => {
      const attacker = await connect(prod, await tokenFor('attacker-p'));
      expect(await login(attacker, payload)).toEqual({ ok: false, error: 'unauthorized', message: expect.any(String) });

      const res = await push(prod.url, { tokens: ['victim-p'], data: 'private' });
      expect(res.status).toBe(202);
      const marker = await barrier(prod, attacker, 'attacker-p');
      expect(idsOf(attacker)).toEqual([marker]);
    },
  );

  it('refuses user_login with a forged or expired token', async () => {
    const client = await connect(prod, await tokenFor('relog-f'));
    const forgedToken = await signUserToken('another-secret-another-secret-0123456789', 'victim-f', 3600);
    expect(await login(client, { token: forgedToken })).toEqual({ ok: false, error: 'unauthorized' });
    const expired = await signUserToken(TEST_AUTH_SECRET, 'victim-f', 60, now() - 3600);
    expect(await login(client, { token: expired })).toEqual({ ok: false, error: 'token_expired' });
    expect(await login(client, { token: 'x', extra: true })).toMatchObject({ ok: false, error: 'validation_failed' });
    // No payload at all: still an answer, not silence.
    const bare = (await (client.socket.timeout(5_000) as any).emitWithAck('user_login')) as LoginAck;
    expect(bare).toMatchObject({ ok: false, error: 'validation_failed' });
  });

  it('re-binds a socket with user_login carrying a signed token', async () => {
    const client = await connect(prod, await tokenFor('relog-a'));
    const synced = waitFor(client.socket, 'notifications:synced');
    expect(await login(client, { token: await tokenFor('relog-b') })).toEqual({ ok: true, userId: 'relog-b' });
    await synced;

    const forOld = await push(prod.url, { tokens: ['relog-a'], data: 'old identity' });
    expect(forOld.status).toBe(202);
    const marker = await barrier(prod, client, 'relog-b');
    expect(idsOf(client)).toEqual([marker]);
  });
});

describe('dev auth mode', () => {
  it('mints working tokens at /api/dev/token and rejects a bad user id', async () => {
    const res = await request(dev.url, '/api/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: { userId: 'dev-1' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ token: expect.any(String), userId: 'dev-1', expiresIn: expect.any(Number) });
    const client = await connect(dev, res.body.token as string);

    // The push API is open in dev auth mode.
    const pushed = await request(dev.url, '/api/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: { tokens: ['dev-1'], data: 'hello' },
    });
    expect(pushed.status).toBe(202);
    await waitForId(client, pushed.body.id as string);

    const bad = await request(dev.url, '/api/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: { userId: 'a\u0000b' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
  });

  it.each([{ userId: 'dev-b' }, { tokenId: 'dev-b' }])('re-binds a socket with the legacy user_login %o', async (payload) => {
    const client = await connect(dev, await devToken(dev.url, 'dev-a'));
    expect(await login(client, payload)).toEqual({ ok: true, userId: 'dev-b' });

    const forOld = await push(dev.url, { tokens: ['dev-a'], data: 'old identity' });
    expect(forOld.status).toBe(202);
    const forNew = await push(dev.url, { tokens: ['dev-b'], data: 'new identity' });
    await waitForId(client, forNew.body.id as string);
    const marker = await barrier(dev, client, 'dev-b');
    expect(idsOf(client)).toEqual([forNew.body.id, marker]);
  });
});

describe('history over HTTP', () => {
  let onlyMine: string[];
  let theirs: string;

  beforeAll(async () => {
    const a = await push(prod.url, { tokens: ['hist-me'], data: 1 });
    const b = await push(prod.url, { tokens: ['hist-other'], data: 2 });
    const c = await push(prod.url, { tokens: ['hist-me', 'hist-other'], data: 3 });
    const d = await push(prod.url, { tokens: ['hist-me'], data: 4 });
    onlyMine = [d.body.id, c.body.id, a.body.id];
    theirs = b.body.id as string;
  });

  it("GET /api/me/notifications returns only the token holder's notifications, newest first", async () => {
    const res = await request(prod.url, '/api/me/notifications', {
      headers: { authorization: `Bearer ${await tokenFor('hist-me')}` },
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((n: { id: string }) => n.id)).toEqual(onlyMine);
    expect(res.body.items.map((n: { id: string }) => n.id)).not.toContain(theirs);
    expect(res.body).toMatchObject({ nextCursor: null, unread: 3 });
  });

  it('GET /api/me/notifications pages with before and limit', async () => {
    const authorization = `Bearer ${await tokenFor('hist-me')}`;
    const first = await request(prod.url, '/api/me/notifications?limit=2', { headers: { authorization } });
    expect(first.body.items.map((n: { id: string }) => n.id)).toEqual(onlyMine.slice(0, 2));
    expect(first.body.nextCursor).toBe(first.body.items[1].seq);
    const second = await request(prod.url, `/api/me/notifications?limit=2&before=${first.body.nextCursor}`, { headers: { authorization } });
    expect(second.body.items.map((n: { id: string }) => n.id)).toEqual(onlyMine.slice(2));
    expect(second.body.nextCursor).toBeNull();
  });

  it.each([
    ['no Authorization header', async () => undefined, 'unauthorized'],
    ['the push key instead of a user token', async () => `Bearer ${TEST_PUSH_KEY}`, 'unauthorized'],
    ['a forged token', async () => `Bearer ${await signUserToken('another-secret-another-secret-0123456789', 'hist-me', 3600)}`, 'unauthorized'],
    ['an expired token', async () => `Bearer ${await signUserToken(TEST_AUTH_SECRET, 'hist-me', 60, now() - 3600)}`, 'token_expired'],
  ])('GET /api/me/notifications answers %s with 401 %s', async (_, authorization, code) => {
    const header = await authorization();
    const res = await request(prod.url, '/api/me/notifications', { headers: header ? { authorization: header } : {} });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(res.body).not.toHaveProperty('items');
  });

  it('GET /api/notifications?userId= lists any user for the push key', async () => {
    const res = await request(prod.url, '/api/notifications?userId=hist-other', {
      headers: { authorization: `Bearer ${TEST_PUSH_KEY}` },
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((n: { id: string }) => n.id)).toEqual([onlyMine[1], theirs]);
  });

  it.each([
    ['no key', async () => undefined],
    ['a wrong key', async () => 'Bearer wrong-key-wrong-key-wrong'],
    ["that user's own token", async () => `Bearer ${await tokenFor('hist-other')}`],
  ])('GET /api/notifications?userId= answers %s with 401', async (_, authorization) => {
    const header = await authorization();
    const res = await request(prod.url, '/api/notifications?userId=hist-other', { headers: header ? { authorization: header } : {} });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
  });

  it.each([
    ['a missing userId', '/api/notifications', 'userId'],
    ['a userId with a control character', '/api/notifications?userId=a%00b', 'userId'],
    ['a limit of 0', '/api/notifications?userId=hist-me&limit=0', 'limit'],
    ['a limit over 100', '/api/notifications?userId=hist-me&limit=101', 'limit'],
    ['a cursor that is not a number', '/api/notifications?userId=hist-me&before=abc', 'before'],
  ])('GET /api/notifications answers %s with 400 validation_failed', async (_, path, field) => {
    const res = await request(prod.url, path, { headers: { authorization: `Bearer ${TEST_PUSH_KEY}` } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'validation_failed', message: expect.stringContaining(field) } });
  });
});
