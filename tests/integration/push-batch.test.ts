import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from '../../lib/http/signature';
import { RawHttp } from '../support/rawHttp';
import { push, request, startServer, TEST_PUSH_KEY, type HttpResult, type TestServer } from '../support/server';
import { idsOf, waitForId, type ConnectedClient } from '../support/socket';
import { serverSuite } from '../support/suite';

/**
 * POST /api/push/batch against the real server: each item stored and delivered
 * as if pushed alone, one result per item in order, per-item refusals, retries
 * by id, the envelope's errors, and the key's budget counted per item.
 */

const suite = serverSuite();

function batch(base: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return request(base, '/api/push/batch', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_PUSH_KEY}`, ...headers },
    body,
  });
}

/** Pushes a marker to the user and waits for it: whatever the client lacks then, it never got. */
async function barrier(client: ConnectedClient, userId: string): Promise<string> {
  const res = await push(suite.server.url, { tokens: [userId], entityType: 'barrier' });
  expect(res.status).toBe(202);
  await waitForId(client, res.body.id as string);
  return res.body.id as string;
}

describe('a batch', () => {
  it('stores and delivers each notification, and answers one result per item in order', async () => {
    const [a, b] = await Promise.all([suite.connect('bat-a'), suite.connect('bat-b')]);
    const res = await batch(suite.server.url, {
      notifications: [
        { id: 'bat-1', tokens: ['bat-a'], entityType: 'like', data: { title: 'one' } },
        { id: 'bat-2', tokens: ['bat-a', 'bat-b', 'bat-offline'], entityType: 'comment', data: 'two' },
        { tokens: ['bat-b'] },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.results).toEqual([
      { id: 'bat-1', recipients: 1, online: 1 },
      { id: 'bat-2', recipients: 3, online: 2 },
      { id: expect.any(String), recipients: 1, online: 1 },
    ]);
    const third = res.body.results[2].id as string;
    const markerA = await barrier(a, 'bat-a');
    const markerB = await barrier(b, 'bat-b');
    expect(idsOf(a)).toEqual(['bat-1', 'bat-2', markerA]);
    expect(idsOf(b)).toEqual(['bat-2', third, markerB]);
    expect(a.received[0]).toMatchObject({ id: 'bat-1', entityType: 'like', data: { title: 'one' }, read: false });
    // Stored: a user who was offline finds it in history.
    const history = await request(suite.server.url, '/api/notifications?userId=bat-offline', {
      headers: { authorization: `Bearer ${TEST_PUSH_KEY}` },
    });
    expect(history.status).toBe(200);
    expect((history.body.items as Array<{ id: string }>).map((n) => n.id)).toEqual(['bat-2']);
  });

  it('refuses a bad item in its own result and stores the others', async () => {
    const c = await suite.connect('bat-mixed');
    expect((await push(suite.server.url, { id: 'bat-taken', tokens: ['bat-mixed'], data: 'first' })).status).toBe(202);
    const res = await batch(suite.server.url, {
      notifications: [
        { tokens: 'bat-mixed' },
        { id: 'bat-taken', tokens: ['bat-mixed'], data: 'another body' },
        { id: 'bat-ok', tokens: ['bat-mixed'], data: { link: 'javascript:alert(1)' } },
        { id: 'bat-fine', tokens: ['bat-mixed'], surprise: true },
        { id: 'bat-good', tokens: ['bat-mixed'] },
      ],
    });
    expect(res.status).toBe(202);
    const [notList, conflict, badLink, unknownField, good] = res.body.results as Array<Record<string, { code: string; message: string }>>;
    expect(notList!.error).toEqual({ code: 'validation_failed', message: expect.stringContaining('tokens') });
    expect(conflict!.error).toEqual({ code: 'idempotency_conflict', message: expect.any(String) });
    expect(badLink!.error).toEqual({ code: 'validation_failed', message: expect.stringContaining('link') });
    expect(unknownField!.error).toEqual({ code: 'validation_failed', message: expect.stringContaining('surprise') });
    expect(good).toEqual({ id: 'bat-good', recipients: 1, online: 1 });
    const marker = await barrier(c, 'bat-mixed');
    expect(idsOf(c)).toEqual(['bat-taken', 'bat-good', marker]);
  });

  it('is safe to send again: items with an id are stored and delivered once', async () => {
    const c = await suite.connect('bat-retry');
    const body = { notifications: [1, 2, 3].map((i) => ({ id: `bat-r${i}`, tokens: ['bat-retry'], data: `r${i}` })) };
    const first = await batch(suite.server.url, body);
    const again = await batch(suite.server.url, body);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    // The same id twice in one batch: one notification, the same answer for both.
    const twice = await batch(suite.server.url, { notifications: [{ id: 'bat-r9', tokens: ['bat-retry'] }, { id: 'bat-r9', tokens: ['bat-retry'] }] });
    expect(twice.body.results[0]).toEqual(twice.body.results[1]);
    const marker = await barrier(c, 'bat-retry');
    expect(idsOf(c)).toEqual(['bat-r1', 'bat-r2', 'bat-r3', 'bat-r9', marker]);
  });

  it('takes 1,000 notifications at once and delivers them in order', async () => {
    const c = await suite.connect('bat-big');
    const ids = Array.from({ length: 1000 }, (_, i) => `bat-big-${i}`);
    const res = await batch(suite.server.url, { notifications: ids.map((id) => ({ id, tokens: ['bat-big'], data: { title: id } })) });
    expect(res.status).toBe(202);
    expect((res.body.results as Array<{ id: string }>).map((r) => r.id)).toEqual(ids);
    const marker = await barrier(c, 'bat-big');
    expect(idsOf(c)).toEqual([...ids, marker]);
    const seqs = c.received.map((n) => n.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('is signed like a single push', async () => {
    const body = JSON.stringify({ notifications: [{ id: 'bat-signed', tokens: ['bat-sig'] }] });
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = { 'content-type': 'application/json', [TIMESTAMP_HEADER]: ts, [SIGNATURE_HEADER]: signBody(TEST_PUSH_KEY, ts, body) };
    const res = await request(suite.server.url, '/api/push/batch', { method: 'POST', headers, body });
    expect(res.status).toBe(202);
    expect(res.body.results).toEqual([{ id: 'bat-signed', recipients: 1, online: 0 }]);
    const replay = await request(suite.server.url, '/api/push/batch', { method: 'POST', headers, body });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('signature_replayed');
    const forged = await request(suite.server.url, '/api/push/batch', { method: 'POST', headers: { ...headers, [SIGNATURE_HEADER]: 'v1=' + '0'.repeat(64) }, body });
    expect(forged.status).toBe(401);
  });
});

describe('a batch refused whole', () => {
  const cases: Array<[string, () => Promise<HttpResult>, number, string]> = [
    ['no key', () => batch(suite.server.url, { notifications: [{ tokens: ['x'] }] }, { authorization: 'Bearer wrong' }), 401, 'unauthorized'],
    ['not JSON', () => batch(suite.server.url, '{"notifications": ['), 400, 'invalid_json'],
    ['not an object', () => batch(suite.server.url, [{ tokens: ['x'] }]), 400, 'validation_failed'],
    ['no notifications', () => batch(suite.server.url, {}), 400, 'validation_failed'],
    ['an empty list', () => batch(suite.server.url, { notifications: [] }), 400, 'validation_failed'],
    ['1,001 items', () => batch(suite.server.url, { notifications: Array.from({ length: 1001 }, () => ({ tokens: ['x'] })) }), 400, 'validation_failed'],
    ['an unknown field', () => batch(suite.server.url, { notifications: [{ tokens: ['x'] }], extra: 1 }), 400, 'validation_failed'],
    [
      'more than 100,000 recipients in all',
      () =>
        batch(suite.server.url, {
          notifications: Array.from({ length: 101 }, (_, i) => ({ tokens: Array.from({ length: 1000 }, (_, j) => `u${i}-${j}`) })),
        }),
      400,
      'validation_failed',
    ],
    ['an Idempotency-Key header', () => batch(suite.server.url, { notifications: [{ tokens: ['x'] }] }, { 'idempotency-key': 'k1' }), 400, 'validation_failed'],
    ['the wrong content type', () => batch(suite.server.url, { notifications: [{ tokens: ['x'] }] }, { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
  ];
  for (const [name, send, status, code] of cases) {
    it(`answers ${status} ${code} for ${name}, and stores nothing`, async () => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    });
  }

  it('answers 413 payload_too_large for a body declared over 4 MiB, before reading it, and closes the connection', async () => {
    const http = await RawHttp.open(suite.server.port);
    try {
      http.write(
        'POST /api/push/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Authorization: Bearer ${TEST_PUSH_KEY}\r\nContent-Length: ${4 * 1024 * 1024 + 1}\r\n\r\n{"notifications":[`,
      );
      const res = await http.response();
      expect(res.status).toBe(413);
      expect(res.headers.connection).toBe('close');
      expect(JSON.parse(res.body)).toEqual({ error: { code: 'payload_too_large', message: expect.stringContaining(String(4 * 1024 * 1024)) } });
    } finally {
      http.close();
    }
  });

  it('stored nothing from the refused batches', async () => {
    const history = await request(suite.server.url, '/api/notifications?userId=x', { headers: { authorization: `Bearer ${TEST_PUSH_KEY}` } });
    expect(history.body.items).toEqual([]);
  });
});

describe("a batch and the key's budget", () => {
  let server: TestServer;
  beforeAll(async () => {
    // 10 pushes a second, bursts of 20.
    server = await startServer({ mode: 'production', env: { PUSH_RATE_LIMIT: '10' } });
  });
  afterAll(async () => {
    await server.stop();
    server.cleanup();
  });

  it('counts every item as a push: over the budget, nothing is stored', async () => {
    const items = (prefix: string, n: number) => ({ notifications: Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, tokens: ['bat-budget'] })) });
    expect((await batch(server.url, items('b1', 15))).status).toBe(202);
    const over = await batch(server.url, items('b2', 15));
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const never = await batch(server.url, items('b3', 21));
    expect(never.status).toBe(400);
    expect(never.body.error.message).toContain('burst of 20');
    const history = await request(server.url, '/api/notifications?userId=bat-budget&limit=100', { headers: { authorization: `Bearer ${TEST_PUSH_KEY}` } });
    expect((history.body.items as unknown[]).length).toBe(15);
  });
});
