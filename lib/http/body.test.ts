import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors';
import { readJsonBody } from './body';

const MAX = 1024;
const URL_ = 'http://localhost/api/push';

function jsonRequest(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request(URL_, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    // Required by fetch for a streamed body.
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
}

/** A body delivered in chunks, without any declared length. */
function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

/** The HttpError readJsonBody fails with; fails the test if it succeeds. */
async function failureOf(request: Request, max = MAX): Promise<HttpError> {
  const err = await readJsonBody(request, max).then(
    (ok) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(ok)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  return err as HttpError;
}

describe('readJsonBody', () => {
  describe('accepts', () => {
    it('a JSON body, returning the value and the raw text', async () => {
      const raw = '{"tokens":["1"],"data":"héllo ✓"}';
      expect(await readJsonBody(jsonRequest(raw), MAX)).toEqual({ value: { tokens: ['1'], data: 'héllo ✓' }, raw });
    });

    it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON; Charset="UTF-8"', 'application/json;charset=utf-8'])(
      'Content-Type %j',
      async (type) => {
        expect((await readJsonBody(jsonRequest('[1]', { 'content-type': type }), MAX)).value).toEqual([1]);
      },
    );

    it('Content-Encoding identity', async () => {
      expect((await readJsonBody(jsonRequest('1', { 'content-encoding': 'identity' }), MAX)).value).toBe(1);
    });

    it('a body of exactly the limit', async () => {
      const raw = JSON.stringify('a'.repeat(MAX - 2));
      expect(raw).toHaveLength(MAX);
      expect((await readJsonBody(jsonRequest(raw), MAX)).raw).toBe(raw);
    });

    it('a body streamed in many chunks, with a multi-byte character split between them', async () => {
      const bytes = new TextEncoder().encode('{"a":"€"}');
      const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
      expect((await readJsonBody(jsonRequest(streamOf(chunks)), MAX)).value).toEqual({ a: '€' });
    });
  });

  describe('415', () => {
    it.each([
      ['text/plain', { 'content-type': 'text/plain' }],
      ['form data', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['a JSON look-alike', { 'content-type': 'application/jsonp' }],
      ['another charset', { 'content-type': 'application/json; charset=latin1' }],
    ])('for %s', async (_what, headers) => {
      const err = await failureOf(jsonRequest('{}', headers));
      expect(err.status).toBe(415);
      expect(err.code).toBe('unsupported_media_type');
    });

    it('without a Content-Type', async () => {
      const err = await failureOf(new Request(URL_, { method: 'POST', body: new Uint8Array([123, 125]) }));
      expect(err.status).toBe(415);
    });

    it.each(['gzip', 'br', 'deflate', 'GZIP'])('for Content-Encoding %s', async (encoding) => {
      const err = await failureOf(jsonRequest('{}', { 'content-encoding': encoding }));
      expect(err.status).toBe(415);
      expect(err.code).toBe('unsupported_media_type');
      expect(err.message).toContain(encoding);
    });
  });

  describe('413', () => {
    it('by declared length, even when the body itself is small', async () => {
      const err = await failureOf(jsonRequest('{}', { 'content-length': String(MAX + 1) }));
      expect(err.status).toBe(413);
      expect(err.code).toBe('payload_too_large');
    });

    it('by declared length, before reading the body', async () => {
      let pulled = false;
      const body = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            pulled = true;
            controller.enqueue(new TextEncoder().encode('{}'));
            controller.close();
          },
        },
        { highWaterMark: 0 },
      );
      const err = await failureOf(jsonRequest(body, { 'content-length': String(10 * MAX) }));
      expect(err.status).toBe(413);
      expect(pulled).toBe(false);
    });

    it('by the bytes streamed when no length is declared', async () => {
      const chunk = new Uint8Array(300).fill(0x20);
      const err = await failureOf(jsonRequest(streamOf([chunk, chunk, chunk, chunk])));
      expect(err.status).toBe(413);
    });

    it('by the bytes streamed when the declared length lies', async () => {
      const chunk = new Uint8Array(600).fill(0x20);
      const err = await failureOf(jsonRequest(streamOf([chunk, chunk]), { 'content-length': '10' }));
      expect(err.status).toBe(413);
    });

    it('one byte over the limit', async () => {
      const err = await failureOf(jsonRequest(JSON.stringify('a'.repeat(MAX - 1))));
      expect(err.status).toBe(413);
    });

    it('reads a body a few times over the limit to its end, so the connection can carry the next request', async () => {
      const chunk = new Uint8Array(512).fill(0x20);
      let pulls = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulls++ < 8) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const err = await failureOf(jsonRequest(body));
      expect(err.status).toBe(413);
      expect(pulls).toBe(9);
      expect(err.headers).toEqual({});
    });

    it('asks to close the connection when it leaves a body unread', async () => {
      const declared = await failureOf(jsonRequest('{}', { 'content-length': String(10 * MAX) }));
      expect(declared.headers).toEqual({ connection: 'close' });
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new Uint8Array(1024).fill(0x20));
        },
      });
      expect((await failureOf(jsonRequest(endless))).headers).toEqual({ connection: 'close' });
    });

    it('without reading an endless body to its end', async () => {
      let cancelled = false;
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new Uint8Array(256).fill(0x20));
        },
        cancel() {
          cancelled = true;
        },
      });
      const err = await failureOf(jsonRequest(endless));
      expect(err.status).toBe(413);
      expect(cancelled).toBe(true);
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
      const err = await failureOf(jsonRequest(raw));
      expect(err.status).toBe(400);
      expect(err.code).toBe('invalid_json');
    });

    it('for no body at all', async () => {
      const err = await failureOf(new Request(URL_, { method: 'POST', headers: { 'content-type': 'application/json' } }));
      expect(err.status).toBe(400);
      expect(err.code).toBe('invalid_json');
    });

    it.each([
      ['a lone continuation byte', [0x22, 0x80, 0x22]],
      ['an invalid lead byte', [0x22, 0xff, 0xfe, 0x22]],
      ['a truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
      ['an overlong encoding', [0x22, 0xc0, 0xaf, 0x22]],
    ])('for invalid UTF-8: %s', async (_what, bytes) => {
      const err = await failureOf(jsonRequest(new Uint8Array(bytes)));
      expect(err.status).toBe(400);
      expect(err.code).toBe('invalid_json');
      expect(err.message).toMatch(/UTF-8/);
    });
  });
});
