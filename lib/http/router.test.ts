import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawHttp } from '../../tests/support/rawHttp';
import { MAX_PUSH_BODY_BYTES, type PushRequest } from '../contract';
import { ReplayMemory } from '../limits';
import type { Logger } from '../log';
import { DRAIN_FACTOR } from './body';
import { pushRoutes } from './push';
import { apiHandler } from './router';

/**
 * The API router on a real node:http server over raw TCP, with the push route
 * and a fake push service: header semantics, the body cap and its drain, a
 * client that leaves mid-body, request ids, 404/405/OPTIONS, and what it leaves
 * to Next. tests/security/hostile-http.test.ts covers the rest through the
 * real server.
 */

const KEY = 'node-push-key-0123456789';
const quiet = { info: () => undefined, error: () => undefined, warn: () => undefined, debug: () => undefined } as unknown as Logger;

let server: Server;
let port: number;
let pushed: PushRequest[];
let settled: number;
/** Requests the router left to the next handler (Next's, in Herald). */
let passedOn: string[];

beforeEach(async () => {
  pushed = [];
  settled = 0;
  passedOn = [];
  const serveApi = apiHandler(
    pushRoutes({
      pushApiKey: KEY,
      pushPerSecond: 0,
      limiter: undefined,
      replay: new ReplayMemory(300, 1000),
      claimOnce: undefined,
      push: {
        async push(req: PushRequest) {
          pushed.push(req);
          return { body: { id: `n${pushed.length}`, recipients: req.userIds.length, online: 0 }, replayed: false };
        },
      },
    }),
    quiet,
  );
  server = createServer((req, res) => {
    void serveApi(req, res)
      .then((handled) => {
        if (handled) return;
        passedOn.push(req.url ?? '');
        res.end('next');
      })
      .finally(() => settled++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const BODY = JSON.stringify({ tokens: ['alice'], entityType: 'like', data: { actor: 'Bob' } });

function request(body: string | Buffer, headers: string[] = [], opts: { length?: number } = {}): string {
  const length = opts.length ?? Buffer.byteLength(body);
  return [
    'POST /api/push HTTP/1.1',
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    `Content-Length: ${length}`,
    ...headers,
    '',
    '',
  ].join('\r\n');
}

describe('the push route over node:http', () => {
  it('accepts a push with the key, answers JSON with a request id, and serves the next request on the same connection', async () => {
    const c = await RawHttp.open(port);
    c.write(request(BODY, [`Authorization: Bearer ${KEY}`, 'X-Request-Id: req-1']) + BODY);
    const first = await c.response();
    expect(first.status).toBe(202);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.headers['x-request-id']).toBe('req-1');
    expect(JSON.parse(first.body)).toEqual({ id: 'n1', recipients: 1, online: 0 });
    c.write(request(BODY, [`Authorization: Bearer ${KEY}`]) + BODY);
    const second = await c.response();
    expect(second.status).toBe(202);
    expect(second.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(pushed.map((p) => p.userIds)).toEqual([['alice'], ['alice']]);
    c.close();
  });

  it('judges a repeated Authorization header as the Fetch standard joins it, not by its first value', async () => {
    const c = await RawHttp.open(port);
    c.write(request(BODY, [`Authorization: Bearer ${KEY}`, 'Authorization: Bearer other']) + BODY);
    const res = await c.response();
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error.code).toBe('unauthorized');
    expect(pushed).toHaveLength(0);
    c.close();
  });

  it('reads and drops a body over the cap (within the drain bound) and keeps the connection for the next request', async () => {
    const c = await RawHttp.open(port);
    const big = Buffer.alloc(MAX_PUSH_BODY_BYTES * 2, 'a');
    // Chunked, so the declared-length check cannot refuse it unread.
    c.write(
      ['POST /api/push HTTP/1.1', 'Host: 127.0.0.1', 'Content-Type: application/json', `Authorization: Bearer ${KEY}`, 'Transfer-Encoding: chunked', '', ''].join(
        '\r\n',
      ),
    );
    c.write(`${big.length.toString(16)}\r\n`);
    c.write(big);
    c.write('\r\n0\r\n\r\n');
    const refused = await c.response();
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body).error.code).toBe('payload_too_large');
    expect(refused.headers.connection).not.toBe('close');
    c.write(request(BODY, [`Authorization: Bearer ${KEY}`]) + BODY);
    expect((await c.response()).status).toBe(202);
    c.close();
  });

  it('closes the connection after 413 once a body runs past the drain bound', async () => {
    const c = await RawHttp.open(port);
    c.write(
      ['POST /api/push HTTP/1.1', 'Host: 127.0.0.1', 'Content-Type: application/json', `Authorization: Bearer ${KEY}`, 'Transfer-Encoding: chunked', '', ''].join(
        '\r\n',
      ),
    );
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const chunks = Math.ceil((MAX_PUSH_BODY_BYTES * (DRAIN_FACTOR + 1)) / chunk.length);
    for (let i = 0; i < chunks; i++) c.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    const refused = await c.response();
    expect(refused.status).toBe(413);
    expect(refused.headers.connection).toBe('close');
    expect(await c.closedWithin(5000)).toBe(true);
    expect(pushed).toHaveLength(0);
  });

  it('settles a push whose client leaves mid-body, and goes on serving', async () => {
    const c = await RawHttp.open(port);
    c.write(request(BODY, [`Authorization: Bearer ${KEY}`], { length: BODY.length + 100 }) + BODY);
    await new Promise((r) => setTimeout(r, 50));
    c.close();
    const deadline = Date.now() + 5000;
    while (settled < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(1);
    expect(pushed).toHaveLength(0);
    const d = await RawHttp.open(port);
    d.write(request(BODY, [`Authorization: Bearer ${KEY}`]) + BODY);
    expect((await d.response()).status).toBe(202);
    d.close();
  });

  it('answers an unknown API path with a JSON 404, a known one with another method with 405 and Allow, and OPTIONS with 204', async () => {
    const c = await RawHttp.open(port);
    c.write('GET /api/nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const missing = await c.response();
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    expect(missing.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    c.write('GET /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const wrongMethod = await c.response();
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect(JSON.parse(wrongMethod.body).error.code).toBe('method_not_allowed');
    c.write('OPTIONS /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\n\r\n');
    const options = await c.response();
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('POST, OPTIONS');
    expect(options.headers['access-control-allow-origin']).toBeUndefined();
    c.close();
  });

  it('leaves every path outside /api/ to the next handler', async () => {
    const c = await RawHttp.open(port);
    for (const path of ['/', '/api', '/apix/push', '/socket.io/?EIO=4']) {
      c.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      expect((await c.response()).body).toBe('next');
    }
    expect(passedOn).toEqual(['/', '/api', '/apix/push', '/socket.io/?EIO=4']);
    c.close();
  });
});
