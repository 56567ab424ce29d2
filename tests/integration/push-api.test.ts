import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { push, request, TEST_PUSH_KEY, tokenFor } from '../support/server';
import { idsOf, waitForId, type ClientOptions, type ConnectedClient } from '../support/socket';
import { serverSuite } from '../support/suite';

/**
 * The push API against the real server (production mode: signed tokens, a push
 * key): who receives what, the 202 answer, and every error status with its code.
 */

const KIB = 1024;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The push key, which /readyz asks for before it shows its checks. */
const operator = { headers: { authorization: `Bearer ${TEST_PUSH_KEY}` } };

const suite = serverSuite();
const connect = (userId: string, opts?: ClientOptions): Promise<ConnectedClient> => suite.connect(userId, opts);

/**
 * Pushes a marker to `userIds` and waits until every client has it. One socket
 * delivers in order, so anything the server sent a client before the marker
 * has arrived by then: what a client lacks at that point it never got.
 */
async function barrier(clients: ConnectedClient[], userIds: string[]): Promise<string> {
  const res = await push(suite.server.url, { tokens: userIds, entityType: 'barrier' });
  expect(res.status).toBe(202);
  const id = res.body.id as string;
  await Promise.all(clients.map((c) => waitForId(c, id)));
  return id;
}

describe('delivery', () => {
  it('delivers to the named users and nobody else', async () => {
    const [one, two, three] = await Promise.all([connect('tgt-1'), connect('tgt-2'), connect('tgt-3')]);
    const res = await push(suite.server.url, { tokens: ['tgt-1', 'tgt-2'], entityType: 'like', data: 'You shall not pass!!!' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(String), recipients: 2, online: 2 });
    const id = res.body.id as string;

    const marker = await barrier([one, two, three], ['tgt-1', 'tgt-2', 'tgt-3']);
    expect(idsOf(one)).toEqual([id, marker]);
    expect(idsOf(two)).toEqual([id, marker]);
    expect(idsOf(three)).toEqual([marker]);
    expect(one.received[0]).toEqual({
      id,
      seq: expect.any(Number),
      entityType: 'like',
      data: 'You shall not pass!!!',
      createdAt: expect.stringMatching(ISO_TIME),
      read: false,
    });
    expect(two.received[0]).toEqual(one.received[0]);
  });

  it('writes the frame to WebSocket tabs itself and to a long-polling tab through socket.io, the same notification to each', async () => {
    const frames = async () => ((await request(suite.server.url, '/readyz', operator)).body as { checks: { realtime: { frames: { direct: number } } } }).checks.realtime.frames.direct;
    const [ws1, ws2, polling] = await Promise.all([connect('path-1'), connect('path-1'), connect('path-1', { transports: ['polling'] })]);
    expect(polling.socket.io.engine.transport.name).toBe('polling');
    const before = await frames();
    const res = await push(suite.server.url, { tokens: ['path-1'], entityType: 'like', data: { n: 1 } });
    expect(res.status).toBe(202);
    await Promise.all([ws1, ws2, polling].map((c) => waitForId(c, res.body.id as string)));
    expect(await frames()).toBe(before + 2);
    expect(ws2.received).toEqual(ws1.received);
    expect(polling.received).toEqual(ws1.received);
    expect(ws1.received).toHaveLength(1);
  });

  it('delivers to every tab of a user exactly once', async () => {
    const tabs = await Promise.all([connect('tabs-1'), connect('tabs-1'), connect('tabs-1')]);
    const res = await push(suite.server.url, { tokens: ['tabs-1'], data: { n: 1 } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ recipients: 1, online: 1 });

    const marker = await barrier(tabs, ['tabs-1']);
    for (const tab of tabs) expect(idsOf(tab)).toEqual([res.body.id, marker]);
  });

  it('counts distinct recipients and those online in the 202 answer', async () => {
    const online = await connect('count-1');
    const res = await push(suite.server.url, { tokens: ['count-1', 'count-2', 'count-2', 'count-1', 'count-3'] });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(String), recipients: 3, online: 1 });

    // A user named twice still gets one copy.
    const marker = await barrier([online], ['count-1']);
    expect(idsOf(online)).toEqual([res.body.id, marker]);
  });

  it('accepts userIds as an alias of tokens and applies the defaults', async () => {
    const client = await connect('alias-1');
    const res = await push(suite.server.url, { userIds: ['alias-1'] });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ recipients: 1, online: 1 });
    await waitForId(client, res.body.id as string);
    expect(client.received[0]).toMatchObject({ id: res.body.id, entityType: 'message', data: null });
  });

  it('uses a client-chosen id as the notification id', async () => {
    const client = await connect('chosen-1');
    const res = await push(suite.server.url, { tokens: ['chosen-1'], id: 'order-42:shipped', data: { orderId: 42 } });
    expect(res.status).toBe(202);
    expect(res.body.id).toBe('order-42:shipped');
    await waitForId(client, 'order-42:shipped');
    expect(client.received[0]).toMatchObject({ id: 'order-42:shipped', data: { orderId: 42 } });
  });

  it('accepts the largest push the contract allows', async () => {
    const tokens = Array.from({ length: 1000 }, (_, i) => `max-${i}`);
    // A JSON string of n characters serializes to n + 2 bytes: exactly 16 KiB.
    const data = 'x'.repeat(16 * KIB - 2);
    const res = await push(suite.server.url, { tokens, data, id: 'i'.repeat(128) });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: 'i'.repeat(128), recipients: 1000, online: 0 });
  });
});

describe('errors', () => {
  it.each([
    ['an unfinished object', '{"tokens": ["1"]'],
    ['an empty body', ''],
    ['plain text', 'hello'],
  ])('answers %s with 400 invalid_json', async (_, body) => {
    const res = await push(suite.server.url, body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'invalid_json', message: expect.any(String) } });
  });

  it('answers a body that is not UTF-8 with 400 invalid_json', async () => {
    const res = await push(suite.server.url, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_json');
  });

  const control = (c: string) => ({ tokens: ['ok', `bad${c}id`] });
  it.each([
    ['no recipients at all', {}, 'tokens'],
    ['an empty recipient list', { tokens: [] }, 'tokens'],
    ['recipients that are not an array', { tokens: 'tgt-1' }, 'tokens'],
    ['a recipient that is not a string', { tokens: [1] }, 'tokens[0]'],
    ['an empty user id', { tokens: [''] }, 'tokens[0]'],
    ['a user id over 128 characters', { tokens: ['u'.repeat(129)] }, 'tokens[0]'],
    ['a NUL in a user id', control('\u0000'), 'tokens[1]'],
    ['a newline in a user id', control('\n'), 'tokens[1]'],
    ['a DEL in a user id', control('\u007f'), 'tokens[1]'],
    ['a C1 control in a user id', control('\u0085'), 'tokens[1]'],
    ['a line separator in a user id', control('\u2028'), 'tokens[1]'],
    ['1001 recipients', { tokens: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, 'tokens'],
    ['an empty userIds alias', { userIds: [] }, 'userIds'],
    ['both tokens and userIds', { tokens: ['1'], userIds: ['2'] }, 'userIds'],
    ['data over 16 KiB', { tokens: ['1'], data: 'x'.repeat(16 * KIB - 1) }, 'data'],
    ['an entityType with markup', { tokens: ['1'], entityType: '<b>like</b>' }, 'entityType'],
    ['an id with spaces', { tokens: ['1'], id: 'not an id' }, 'id'],
    ['an unknown field', { tokens: ['1'], colour: 'red' }, 'colour'],
    ['a JSON array', [], 'JSON object'],
    ['JSON null', null, 'JSON object'],
  ])('answers %s with 400 validation_failed naming %s', async (_, body, field) => {
    const res = await push(suite.server.url, body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'validation_failed', message: expect.stringContaining(field) } });
  });

  it('rejects an Idempotency-Key header that is not a plain key with 400 naming it', async () => {
    const res = await push(suite.server.url, { tokens: ['1'] }, { 'idempotency-key': 'has spaces in it' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'validation_failed', message: expect.stringContaining('Idempotency-Key') } });
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong key', 'Bearer wrong-key-wrong-key-wrong'],
    ['the key with extra characters', `Bearer ${TEST_PUSH_KEY}x`],
    ['a prefix of the key', `Bearer ${TEST_PUSH_KEY.slice(0, -1)}`],
    ['another auth scheme', `Basic ${Buffer.from(`x:${TEST_PUSH_KEY}`).toString('base64')}`],
    ['a user token instead of the key', 'user-token'],
  ])('answers %s with 401 unauthorized and delivers nothing', async (_, auth) => {
    const victim = await connect('victim-401');
    const authorization = auth === 'user-token' ? `Bearer ${await tokenFor('victim-401')}` : auth;
    const res = await request(suite.server.url, '/api/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: { tokens: ['victim-401'], data: 'spoofed' },
    });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const marker = await barrier([victim], ['victim-401']);
    expect(idsOf(victim)).toEqual([marker]);
  });

  it.each(['GET', 'PUT', 'DELETE', 'PATCH'])('answers %s with 405 method_not_allowed as JSON', async (method) => {
    const res = await request(suite.server.url, '/api/push', {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_PUSH_KEY}` },
      body: method === 'GET' ? undefined : { tokens: ['1'] },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('allow')).toBe('POST');
    expect(res.body).toEqual({ error: { code: 'method_not_allowed', message: expect.any(String) } });
  });

  it('answers a body over 64 KiB with 413 payload_too_large', async () => {
    const res = await push(suite.server.url, { tokens: ['1'], data: 'x'.repeat(64 * KIB) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'payload_too_large', message: expect.any(String) } });
  });

  it('answers a streamed body over 64 KiB without Content-Length with 413, and the next request still works', async () => {
    const encoder = new TextEncoder();
    const chunk = encoder.encode('x'.repeat(8 * KIB));
    let sent = 0;
    // 256 KiB in 8 KiB chunks, no Content-Length: the server must stop at the cap
    // while the client has already written the rest.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(encoder.encode('{"tokens":["1"],"data":"'));
        if (sent++ < 32) return controller.enqueue(chunk);
        controller.enqueue(encoder.encode('"}'));
        controller.close();
      },
    });
    const res = await push(suite.server.url, body);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');

    // A pooling client (fetch here) reuses its connection: the unread rest of the
    // body must not poison the next request.
    const next = await push(suite.server.url, { tokens: ['1'], data: 'after a 413' });
    expect(next.status).toBe(202);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['a JSON look-alike', 'application/json-patch+json'],
  ])('answers a %s content type with 415 unsupported_media_type', async (_, type) => {
    const res = await push(suite.server.url, { tokens: ['1'] }, { 'content-type': type });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ error: { code: 'unsupported_media_type', message: expect.any(String) } });
  });

  it('answers a body with no content type with 415 unsupported_media_type', async () => {
    const res = await request(suite.server.url, '/api/push', {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_PUSH_KEY}` },
      body: new TextEncoder().encode(JSON.stringify({ tokens: ['1'] })),
    });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('answers a gzip-encoded body with 415 unsupported_media_type', async () => {
    const gz = new Uint8Array(gzipSync(JSON.stringify({ tokens: ['1'], data: 'zipped' })));
    const res = await push(suite.server.url, gz, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ error: { code: 'unsupported_media_type', message: expect.stringContaining('gzip') } });
  });

  it('accepts application/json with a UTF-8 charset', async () => {
    const res = await push(suite.server.url, { tokens: ['1'] }, { 'content-type': 'application/json; charset=utf-8' });
    expect(res.status).toBe(202);
  });

  it('still delivers a good push after a burst of bad requests', async () => {
    const client = await connect('survivor');
    const bad = await Promise.all([
      push(suite.server.url, '{"tokens":'),
      push(suite.server.url, { tokens: ['survivor'], data: 'x'.repeat(20 * KIB) }),
      push(suite.server.url, { tokens: ['survivor'], data: 'x'.repeat(70 * KIB) }),
      push(suite.server.url, { tokens: ['survivor\u0000'] }),
      push(suite.server.url, { tokens: ['survivor'] }, { authorization: 'Bearer nope' }),
      push(suite.server.url, { tokens: ['survivor'] }, { 'content-type': 'text/plain' }),
      request(suite.server.url, '/api/push', { method: 'DELETE' }),
    ]);
    expect(bad.map((r) => r.status)).toEqual([400, 400, 413, 400, 401, 415, 405]);

    const res = await push(suite.server.url, { tokens: ['survivor'], data: 'still here' });
    expect(res.status).toBe(202);
    await waitForId(client, res.body.id as string);
    expect(client.received.map((n) => n.data)).toEqual(['still here']);
  });
});

describe('request ids and probes', () => {
  it('echoes a given X-Request-Id on success and on error', async () => {
    const ok = await push(suite.server.url, { tokens: ['1'] }, { 'x-request-id': 'req-abc.123' });
    expect(ok.status).toBe(202);
    expect(ok.headers.get('x-request-id')).toBe('req-abc.123');

    const bad = await push(suite.server.url, '{', { 'x-request-id': 'req-def.456' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toBe('req-def.456');
  });

  it('generates a fresh X-Request-Id when none or an unsafe one is given', async () => {
    const [a, b, unsafe] = await Promise.all([
      push(suite.server.url, { tokens: ['1'] }),
      push(suite.server.url, { tokens: ['1'] }),
      push(suite.server.url, { tokens: ['1'] }, { 'x-request-id': 'x'.repeat(200) }),
    ]);
    for (const r of [a, b, unsafe]) expect(r.headers.get('x-request-id')).toMatch(UUID);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('answers /healthz with JSON saying the process is up', async () => {
    const res = await request(suite.server.url, '/healthz');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ status: 'ok', uptimeSeconds: expect.any(Number) });
  });

  it('answers both health paths with the JSON headers of every other answer, a query string ignored', async () => {
    for (const path of ['/healthz', '/readyz', '/healthz?probe=1', '/readyz?x']) {
      const res = await request(suite.server.url, path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      expect(Number(res.headers.get('content-length')), path).toBe(Buffer.byteLength(JSON.stringify(res.body)));
    }
    // Only those two paths: a longer one is not a health check.
    const other = await request(suite.server.url, '/healthzz');
    expect(other.status).toBe(404);
  });

  it('answers /readyz to anyone with its status alone, and to the push key with its checks', async () => {
    const bare = await request(suite.server.url, '/readyz');
    expect(bare.status).toBe(200);
    expect(bare.body).toEqual({ status: 'ready' });
    expect(JSON.stringify(bare.body)).not.toContain(String(suite.server.process.pid));
    const wrongKey = await request(suite.server.url, '/readyz', { headers: { authorization: 'Bearer not-the-key-0123456789' } });
    expect(wrongKey.body).toEqual({ status: 'ready' });
    const res = await request(suite.server.url, '/readyz', operator);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      status: 'ready',
      accepting: true,
      node: expect.any(String),
      checks: {
        database: { ok: true, kind: 'sqlite', backlog: expect.any(Number) },
        realtime: {
          ok: true,
          connections: expect.any(Number),
          frames: { direct: expect.any(Number), coalesced: expect.any(Number) },
          outbound: { queuedBytes: expect.any(Number), slowConsumers: expect.any(Number), processCapCuts: expect.any(Number) },
        },
      },
    });
  });
});
