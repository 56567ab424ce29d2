import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawHttp } from '../../tests/support/rawHttp';
import type { Logger } from '../log';
import { apiHandler } from './router';

/**
 * Reading a JSON body (ApiRequest.json: body.ts's checks and reader) on a real
 * node:http server over raw TCP: media type, encoding, declared and streamed
 * size, the drain past the cap, UTF-8 and JSON. The route answers the parsed
 * value, or the error the body earned.
 */

const MAX = 1024;
const quiet = { info: () => undefined, error: () => undefined, warn: () => undefined, debug: () => undefined } as unknown as Logger;
let server: Server;
let port: number;

beforeAll(async () => {
  const serveApi = apiHandler([{ method: 'POST', path: '/api/echo', name: 'echo', handler: async (req) => ({ status: 200, body: { value: await req.json(MAX) } }) }], quiet);
  server = createServer((req, res) => void serveApi(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const head = (headers: string[]) => ['POST /api/echo HTTP/1.1', 'Host: 127.0.0.1', ...headers, '', ''].join('\r\n');
const json = (type = 'application/json') => `Content-Type: ${type}`;

/** Sends one request with a declared length; the answer's status, error code (if any), value and headers. */
async function send(body: Buffer | string, headers: string[] = [json()], opts: { length?: number } = {}) {
  const c = await RawHttp.open(port);
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  c.write(head([...headers, `Content-Length: ${opts.length ?? bytes.length}`]));
  c.write(bytes);
  const res = await c.response();
  c.close();
  return summary(res);
}

function summary(res: { status: number; body: string; headers: Record<string, string> }) {
  const parsed = JSON.parse(res.body) as { value?: unknown; error?: { code: string; message: string } };
  return { status: res.status, code: parsed.error?.code, message: parsed.error?.message, value: parsed.value, headers: res.headers };
}

/** Sends a chunked body, chunk by chunk, on an open connection. */
function writeChunked(c: RawHttp, chunks: Buffer[], headers: string[] = [json()], end = true): void {
  c.write(head([...headers, 'Transfer-Encoding: chunked']));
  for (const chunk of chunks) c.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
  if (end) c.write('0\r\n\r\n');
}

describe('reading a JSON body', () => {
  describe('accepts', () => {
    it('a JSON body', async () => {
      expect(await send('{"tokens":["1"],"data":"héllo ✓"}')).toMatchObject({ status: 200, value: { tokens: ['1'], data: 'héllo ✓' } });
    });

    it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON; Charset="UTF-8"', 'application/json;charset=utf-8'])(
      'Content-Type %j',
      async (type) => {
        expect((await send('[1]', [json(type)])).value).toEqual([1]);
      },
    );

    it('Content-Encoding identity', async () => {
      expect((await send('1', [json(), 'Content-Encoding: identity'])).value).toBe(1);
    });

    it('a body of exactly the limit', async () => {
      const raw = JSON.stringify('a'.repeat(MAX - 2));
      expect(raw).toHaveLength(MAX);
      expect((await send(raw)).status).toBe(200);
    });

    it('a body streamed in many chunks, with a multi-byte character split between them', async () => {
      const c = await RawHttp.open(port);
      writeChunked(c, Array.from(Buffer.from('{"a":"€"}'), (b) => Buffer.of(b)));
      expect(summary(await c.response()).value).toEqual({ a: '€' });
      c.close();
    });
  });

  describe('415', () => {
    it.each([
      ['text/plain', [json('text/plain')]],
      ['form data', [json('application/x-www-form-urlencoded')]],
      ['a JSON look-alike', [json('application/jsonp')]],
      ['another charset', [json('application/json; charset=latin1')]],
      ['no Content-Type', []],
    ])('for %s', async (_what, headers) => {
      expect(await send('{}', headers)).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    });

    it.each(['gzip', 'br', 'deflate', 'GZIP'])('for Content-Encoding %s', async (encoding) => {
      const res = await send('{}', [json(), `Content-Encoding: ${encoding}`]);
      expect(res).toMatchObject({ status: 415, code: 'unsupported_media_type' });
      expect(res.message).toContain(encoding);
    });
  });

  describe('413', () => {
    it('by declared length, before reading the body, and asks to close the connection', async () => {
      const c = await RawHttp.open(port);
      c.write(head([json(), `Content-Length: ${10 * MAX}`]));
      const res = summary(await c.response());
      expect(res).toMatchObject({ status: 413, code: 'payload_too_large' });
      expect(res.headers.connection).toBe('close');
      c.close();
    });

    it('by the bytes streamed when no length is declared', async () => {
      const c = await RawHttp.open(port);
      writeChunked(c, Array.from({ length: 4 }, () => Buffer.alloc(300, 0x20)));
      expect(summary(await c.response()).status).toBe(413);
      c.close();
    });

    it('one byte over the limit', async () => {
      expect((await send(JSON.stringify('a'.repeat(MAX - 1)))).status).toBe(413);
    });

    it('reads a body a few times over the limit to its end, so the connection can carry the next request', async () => {
      const c = await RawHttp.open(port);
      writeChunked(c, Array.from({ length: 8 }, () => Buffer.alloc(512, 0x20)));
      const refused = summary(await c.response());
      expect(refused.status).toBe(413);
      expect(refused.headers.connection).not.toBe('close');
      c.write(head([json(), 'Content-Length: 2']) + '{}');
      expect(summary(await c.response())).toMatchObject({ status: 200, value: {} });
      c.close();
    });

    it('stops reading an endless body and closes the connection', async () => {
      const c = await RawHttp.open(port);
      writeChunked(c, Array.from({ length: 40 }, () => Buffer.alloc(1024, 0x20)), [json()], false);
      const refused = summary(await c.response());
      expect(refused.status).toBe(413);
      expect(refused.headers.connection).toBe('close');
      expect(await c.closedWithin(5_000)).toBe(true);
    });
  });

  describe('400 invalid_json', () => {
    it.each([
      ['malformed JSON', '{"tokens": ['],
      ['a trailing comma', '{"a":1,}'],
      ['single quotes', "{'a':1}"],
      ['an empty body', ''],
      ['only whitespace', ' \n\t '],
    ])('for %s', async (_what, raw) => {
      expect(await send(raw)).toMatchObject({ status: 400, code: 'invalid_json' });
    });

    it.each([
      ['a lone continuation byte', [0x22, 0x80, 0x22]],
      ['an invalid lead byte', [0x22, 0xff, 0xfe, 0x22]],
      ['a truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
      ['an overlong encoding', [0x22, 0xc0, 0xaf, 0x22]],
    ])('for invalid UTF-8: %s', async (_what, bytes) => {
      const res = await send(Buffer.from(bytes));
      expect(res).toMatchObject({ status: 400, code: 'invalid_json' });
      expect(res.message).toMatch(/UTF-8/);
    });
  });
});
