import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config';
import type { AdminOverview, AdminUser } from '../../lib/contract';
import { push, request, startServer, tokenFor, type TestServer } from '../support/server';
import { connectClient, eventuallyAsync, waitForId, type ConnectedClient } from '../support/socket';

/**
 * The admin API and the /admin page over HTTP on real production servers: the
 * session cookie's flags, 401 without a session, the error envelope of every
 * refusal, what the overview and the user lookup show (never a notification's
 * data), and no /admin at all in production without ADMIN_TOKEN.
 */

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
let server: TestServer;
let untokened: TestServer;
let development: TestServer;
const open: ConnectedClient[] = [];

beforeAll(async () => {
  [server, untokened, development] = await Promise.all([
    startServer({ mode: 'production', env: { ADMIN_TOKEN } }),
    startServer({ mode: 'production' }),
    // The built app with dev auth and no ADMIN_TOKEN: the admin view is open, as /metrics is.
    startServer({ mode: 'test' }),
  ]);
});

afterAll(async () => {
  for (const c of open) c.close();
  await Promise.all([server?.stop(), untokened?.stop(), development?.stop()]);
  server?.cleanup();
  untokened?.cleanup();
  development?.cleanup();
});

const json = { 'content-type': 'application/json' };
const unauthorized = { error: { code: 'unauthorized', message: expect.any(String) } };

/** Signs in and returns the Cookie header value for later requests. */
async function signIn(): Promise<string> {
  const res = await request(server.url, '/api/admin/session', { method: 'POST', headers: json, body: { token: ADMIN_TOKEN } });
  expect(res.status).toBe(200);
  const cookie = res.headers.get('set-cookie') ?? '';
  return cookie.split(';')[0] as string;
}

describe('admin configuration', () => {
  it('refuses an ADMIN_TOKEN shorter than 16 characters, naming the variable', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN: must be at least 16 characters/);
    expect(loadConfig({ ADMIN_TOKEN }).adminToken).toBe(ADMIN_TOKEN);
  });
});

describe('admin access', () => {
  it('refuses every admin API without a session with 401 and the error envelope', async () => {
    for (const path of ['/api/admin/session', '/api/admin/overview', '/api/admin/users/alice']) {
      const res = await request(server.url, path);
      expect(res.status, path).toBe(401);
      expect(res.body, path).toEqual(unauthorized);
    }
  });

  it('refuses a wrong token with 401 and malformed sign-ins with a specific 4xx', async () => {
    const wrong = await request(server.url, '/api/admin/session', { method: 'POST', headers: json, body: { token: 'not-the-admin-token' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(unauthorized);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const cases: Array<[unknown, Record<string, string>, number, string]> = [
      [{}, json, 400, 'validation_failed'],
      [{ token: 42 }, json, 400, 'validation_failed'],
      [{ token: '' }, json, 400, 'validation_failed'],
      [{ token: ADMIN_TOKEN, extra: 1 }, json, 400, 'validation_failed'],
      ['{"token":', json, 400, 'invalid_json'],
      [`token=${ADMIN_TOKEN}`, { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
    ];
    for (const [body, headers, status, code] of cases) {
      const res = await request(server.url, '/api/admin/session', { method: 'POST', headers, body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body, JSON.stringify(body)).toEqual({ error: { code, message: expect.any(String) } });
    }
  });

  it('signs in with a session cookie that is HttpOnly, SameSite=Strict and Secure in production, and signs out', async () => {
    const res = await request(server.url, '/api/admin/session', { method: 'POST', headers: json, body: { token: ADMIN_TOKEN } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ access: 'token', expiresAt: expect.any(Number) });
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^herald_admin=\d+\.[A-Za-z0-9_-]{43}; /);
    const flags = setCookie.split(/;\s*/).slice(1);
    expect(flags).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Strict', 'Secure', expect.stringMatching(/^Max-Age=\d+$/)]));
    // The token itself never travels back.
    expect(setCookie).not.toContain(ADMIN_TOKEN);

    const cookie = setCookie.split(';')[0] as string;
    const session = await request(server.url, '/api/admin/session', { headers: { cookie } });
    expect(session.status).toBe(200);
    expect(session.body).toEqual({ access: 'token', expiresAt: (res.body as { expiresAt: number }).expiresAt });

    // A forged signature or a moved expiry is no session.
    const [name, value = ''] = cookie.split('=');
    const [exp = '', sig = ''] = value.split('.');
    for (const forged of [`${name}=${exp}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`, `${name}=${Number(exp) + 1000}.${sig}`, `${name}=`]) {
      const refused = await request(server.url, '/api/admin/overview', { headers: { cookie: forged } });
      expect(refused.status, forged).toBe(401);
    }

    const out = await request(server.url, '/api/admin/session', { method: 'DELETE', headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^herald_admin=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('serves /admin unframable: X-Frame-Options DENY and frame-ancestors none', async () => {
    const res = await fetch(`${server.url}/admin`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    await res.text();
  });

  it('does not exist in production without ADMIN_TOKEN: /admin and /api/admin/* are 404', async () => {
    const page = await fetch(`${untokened.url}/admin`);
    expect(page.status).toBe(404);
    await page.text();
    for (const [method, path] of [
      ['GET', '/api/admin/session'],
      ['POST', '/api/admin/session'],
      ['GET', '/api/admin/overview'],
      ['GET', '/api/admin/users/alice'],
    ] as const) {
      const res = await request(untokened.url, path, { method, headers: json, body: method === 'POST' ? { token: ADMIN_TOKEN } : undefined });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    }
  });

  it('is open without ADMIN_TOKEN outside production, with no cookie', async () => {
    const session = await request(development.url, '/api/admin/session');
    expect(session.status).toBe(200);
    expect(session.body).toEqual({ access: 'open', expiresAt: null });
    expect((await request(development.url, '/api/admin/overview')).status).toBe(200);
    const signIn = await request(development.url, '/api/admin/session', { method: 'POST', headers: json, body: { token: 'anything' } });
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get('set-cookie')).toBeNull();
  });
});

describe('what the admin view shows', () => {
  it('lists this node, a push in the tail without its data, and a user lookup with the socket, unread count and latest notifications with receipts', async () => {
    const cookie = await signIn();
    const userId = `admin-user-${Date.now()}`;
    const client = await connectClient(server.url, { token: await tokenFor(userId) });
    open.push(client);

    const first = await request(server.url, '/api/admin/overview', { headers: { cookie } });
    expect(first.status).toBe(200);
    const overview = first.body as AdminOverview;
    expect(overview.nodes).toHaveLength(1);
    expect(overview.nodes[0]).toMatchObject({ self: true, id: expect.any(String), sockets: expect.any(Number), startedAt: expect.any(Number) });
    expect(overview.rates.sampleMs).toBeGreaterThan(0);
    // No WEBHOOK_URL here: no outbox to show.
    expect(overview.webhooks).toBeNull();

    const pushed = await push(server.url, { tokens: [userId], entityType: 'admin-check', data: { secret: 'never-shown' } });
    expect(pushed.status).toBe(202);
    const id = (pushed.body as { id: string }).id;
    await waitForId(client, id);

    let tailed: AdminOverview | undefined;
    await eventuallyAsync(async () => {
      tailed = (await request(server.url, '/api/admin/overview', { headers: { cookie } })).body as AdminOverview;
      return tailed.tail.some((t) => t.id === id) && (tailed.nodes[0]?.dependencies.sqlite ?? false);
    });
    expect(tailed?.tail.find((t) => t.id === id)).toEqual({ id, entityType: 'admin-check', recipients: 1, online: 1, at: expect.any(Number), node: tailed?.nodes[0]?.id });
    expect(JSON.stringify(tailed)).not.toContain('never-shown');
    expect(tailed?.nodes[0]?.sockets).toBeGreaterThanOrEqual(1);

    const lookup = await request(server.url, `/api/admin/users/${encodeURIComponent(userId)}`, { headers: { cookie } });
    expect(lookup.status).toBe(200);
    const user = lookup.body as AdminUser;
    expect(user.userId).toBe(userId);
    expect(user.unread).toBe(1);
    expect(user.sockets).toEqual([
      {
        id: client.socket.id,
        node: tailed?.nodes[0]?.id,
        transport: 'websocket',
        connectedAt: expect.any(Number),
        lastSeq: client.received.at(-1)?.seq,
        // Node's WebSocket client sends no User-Agent (e2e/admin.spec.ts sees Chromium's).
        userAgent: null,
      },
    ]);
    expect(user.notifications).toEqual([
      { id, seq: expect.any(Number), entityType: 'admin-check', createdAt: expect.any(String), read: false, deliveredAt: null, seenAt: null, readAt: null },
    ]);
    expect(JSON.stringify(user)).not.toContain('never-shown');

    // The tab reports it received and showed the notification: the lookup shows both receipts, not a read one.
    const seq = client.received.at(-1)?.seq ?? 0;
    const acked = client.socket.timeout(5_000) as unknown as { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
    expect(await acked.emitWithAck('notifications:received', { upTo: seq })).toMatchObject({ ok: true });
    expect(await acked.emitWithAck('notifications:seen', { ids: [id] })).toMatchObject({ ok: true });
    let receipts: AdminUser['notifications'][number] | undefined;
    await eventuallyAsync(async () => {
      receipts = ((await request(server.url, `/api/admin/users/${encodeURIComponent(userId)}`, { headers: { cookie } })).body as AdminUser).notifications[0];
      return receipts?.seenAt != null;
    });
    expect(receipts).toMatchObject({ id, read: false, deliveredAt: expect.stringMatching(/^\d{4}-/), seenAt: expect.stringMatching(/^\d{4}-/), readAt: null });
  });

  it('refuses a malformed user id in the lookup with 400', async () => {
    const cookie = await signIn();
    const res = await request(server.url, '/api/admin/users/bad%01id', { headers: { cookie } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'validation_failed', message: expect.stringMatching(/^userId: /) } });
  });
});
