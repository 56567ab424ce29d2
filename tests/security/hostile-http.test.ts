import { createHmac } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { push, request, startServer, TEST_PUSH_KEY, tokenFor, type HttpResult, type TestServer } from '../support/server';
import { connectClient, waitForId, type ConnectedClient } from '../support/socket';

/**
 * Hostile input to POST /api/push, one table: each row is one attack with the
 * exact status and error code it must get. Every row that names recipients names
 * the same victim, whose socket stays connected throughout: a refused row must
 * deliver nothing, an accepted one exactly one notification. After the table the
 * server must still deliver a plain push with the defaults untouched (no
 * prototype pollution) and must not have answered a single 500.
 *
 * tests/integration/push-api.test.ts covers the everyday errors; these are the
 * deliberately malicious variants.
 */

const KIB = 1024;
const VICTIM = 'hostile-victim';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let server: TestServer;
let victim: ConnectedClient;
const open: ConnectedClient[] = [];

beforeAll(async () => {
  server = await startServer({ mode: 'production' });
  victim = await connectClient(server.url, { token: await tokenFor(VICTIM) });
  open.push(victim);
});

afterAll(async () => {
  for (const c of open) c.close();
  await server?.stop();
  server?.cleanup();
});

// ---------------------------------------------------------------------------
// Request builders
// ---------------------------------------------------------------------------
const nowSeconds = () => Math.floor(Date.now() / 1000);
const hmac = (key: string, timestamp: string | number, body: string) =>
  createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');

/** A body for the victim (what most rows send, or alter). */
const victimBody = (extra: Record<string, unknown> = {}) => JSON.stringify({ tokens: [VICTIM], ...extra });

/** POST /api/push with exactly these headers (no default key). */
function post(body: string | Uint8Array | ReadableStream<Uint8Array> | undefined, headers: Record<string, string>): Promise<HttpResult> {
  return request(server.url, '/api/push', { method: 'POST', headers, body });
}

/** A signed push: headers built from `sign` (defaults: the right key, now, the body as sent). */
function signed(
  body: string,
  opts: { key?: string; timestamp?: string; signedTimestamp?: string; signedBody?: string; signature?: string; extra?: Record<string, string> } = {},
): Promise<HttpResult> {
  const timestamp = opts.timestamp ?? String(nowSeconds());
  const signature = opts.signature ?? hmac(opts.key ?? TEST_PUSH_KEY, opts.signedTimestamp ?? timestamp, opts.signedBody ?? body);
  return post(body, { 'content-type': 'application/json', 'x-herald-timestamp': timestamp, 'x-herald-signature': signature, ...opts.extra });
}

const nested = (open: string, inner: string, close: string, depth: number) => open.repeat(depth) + inner + close.repeat(depth);

/** A body streamed in 16 KiB chunks with no Content-Length (chunked). */
function streamed(totalBytes: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode('x'.repeat(16 * KIB));
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode(`{"tokens":["${VICTIM}"],"data":"`));
      if (sent >= totalBytes) {
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
        return;
      }
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
}

/**
 * A request written on a raw TCP socket, for what fetch will not send (a
 * Content-Length the body never reaches). Resolves the status and parsed body.
 */
function rawRequest(head: string, bodyPart: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no complete answer within 10 s'));
    }, 10_000);
    const finish = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return false;
      const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
      const headers = new Headers();
      for (const line of headerLines) {
        const i = line.indexOf(':');
        headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      let body = text.slice(split + 4);
      if (headers.get('transfer-encoding') === 'chunked') {
        if (!body.endsWith('0\r\n\r\n')) return false;
        let out = '';
        for (let rest = body; ; ) {
          const nl = rest.indexOf('\r\n');
          const size = parseInt(rest.slice(0, nl), 16);
          if (!size) break;
          out += rest.slice(nl + 2, nl + 2 + size);
          rest = rest.slice(nl + 2 + size + 2);
        }
        body = out;
      } else if (Buffer.byteLength(body) < Number(headers.get('content-length') ?? 0)) {
        return false;
      }
      clearTimeout(timer);
      socket.destroy();
      let parsed: unknown = body;
      try {
        parsed = JSON.parse(body);
      } catch {
        // keep the text
      }
      resolve({ status: Number(statusLine?.split(' ')[1]), body: parsed, headers });
      return true;
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      finish();
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(head.replace(/\n/g, '\r\n') + '\r\n\r\n' + bodyPart);
  });
}

const bearer = { 'content-type': 'application/json', authorization: `Bearer ${TEST_PUSH_KEY}` };

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------
interface Row {
  /** What the attacker does. */
  name: string;
  send: () => Promise<HttpResult>;
  status: number;
  /** The error code, or `null` for an answer without a JSON error body (2xx, HEAD, OPTIONS). */
  code: string | null;
  /** More to check on the answer. */
  check?: (res: HttpResult) => void;
}

const rows: Row[] = [
  // --- not JSON ------------------------------------------------------------
  { name: 'single-quoted JSON', send: () => push(server.url, `{'tokens':['${VICTIM}']}`), status: 400, code: 'invalid_json' },
  { name: 'a trailing comma', send: () => push(server.url, `{"tokens":["${VICTIM}"],}`), status: 400, code: 'invalid_json' },
  { name: 'a JavaScript comment after the object', send: () => push(server.url, `${victimBody()} // hi`), status: 400, code: 'invalid_json' },
  { name: 'a NaN literal in data', send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":NaN}`), status: 400, code: 'invalid_json' },
  { name: 'two JSON objects back to back', send: () => push(server.url, victimBody() + victimBody()), status: 400, code: 'invalid_json' },
  { name: 'only whitespace', send: () => push(server.url, ' \n\t\r '), status: 400, code: 'invalid_json' },
  {
    name: 'an overlong UTF-8 encoding of "/"',
    send: () => push(server.url, new Uint8Array([...Buffer.from(`{"tokens":["${VICTIM}`), 0xc0, 0xaf, ...Buffer.from('"]}')])),
    status: 400,
    code: 'invalid_json',
  },
  { name: '10,000 unclosed [', send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":${'['.repeat(10_000)}`), status: 400, code: 'invalid_json' },

  // --- nesting -------------------------------------------------------------
  {
    name: '10,000 levels of nested arrays in data',
    send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":${nested('[', '', ']', 10_000)}}`),
    status: 400,
    code: 'validation_failed',
    check: (res) => expect(res.body.error.message).toContain('levels deep'),
  },
  {
    name: '10,000 levels of nested objects in data',
    send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":${nested('{"a":', '1', '}', 10_000)}}`),
    status: 400,
    code: 'validation_failed',
  },
  { name: '33 levels of nesting in data (one past the limit)', send: () => push(server.url, victimBody({ data: JSON.parse(nested('[', '1', ']', 33)) })), status: 400, code: 'validation_failed' },
  { name: '10,000 levels of nested arrays as the whole body', send: () => push(server.url, nested('[', '', ']', 10_000)), status: 400, code: 'validation_failed' },
  { name: '10,000 levels of nested arrays as a recipient', send: () => push(server.url, `{"tokens":[${nested('[', `"${VICTIM}"`, ']', 10_000)}]}`), status: 400, code: 'validation_failed' },
  { name: '40,000 levels of nested arrays (over 64 KiB)', send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":${nested('[', '', ']', 40_000)}}`), status: 413, code: 'payload_too_large' },

  // --- prototype pollution -------------------------------------------------
  {
    name: 'a top-level __proto__ key',
    send: () => push(server.url, `{"tokens":["${VICTIM}"],"__proto__":{"polluted":"yes","entityType":"polluted"}}`),
    status: 400,
    code: 'validation_failed',
    check: (res) => expect(res.body.error.message).toBe('unknown field(s): __proto__'),
  },
  {
    name: 'a top-level constructor.prototype key',
    send: () => push(server.url, `{"tokens":["${VICTIM}"],"constructor":{"prototype":{"polluted":"yes"}}}`),
    status: 400,
    code: 'validation_failed',
    check: (res) => expect(res.body.error.message).toBe('unknown field(s): constructor'),
  },
  {
    // Refused rather than accepted with the key dropped: what a 202 accepts is delivered as sent.
    name: 'a __proto__ key in data',
    send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":{"__proto__":{"polluted":"yes","entityType":"polluted","data":"polluted"},"x":1}}`),
    status: 400,
    code: 'validation_failed',
    check: (res) => expect(res.body.error.message).toBe('data: must not contain a "__proto__" key (it cannot be delivered as sent)'),
  },
  {
    name: 'a __proto__ key deep in data',
    send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":{"list":[1,{"a":{"__proto__":{"polluted":"yes"}}}]}}`),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'constructor.prototype in data',
    send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":{"constructor":{"prototype":{"polluted":"yes","id":"polluted"}}}}`),
    status: 202,
    code: null,
  },
  {
    name: 'a __proto__ link in data smuggling javascript:',
    send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":{"__proto__":{"link":"javascript:alert(1)"}}}`),
    status: 400,
    code: 'validation_failed',
  },
  {
    // Only the literal key "__proto__" is refused; a key that merely contains it is data like any other.
    name: 'a key spelled like __proto__ but not it',
    send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":{"__proto__x":1,"proto":2}}`),
    status: 202,
    code: null,
  },

  // --- content types and encodings -----------------------------------------
  { name: 'JSON declared as UTF-16', send: () => push(server.url, victimBody(), { 'content-type': 'application/json; charset=utf-16' }), status: 415, code: 'unsupported_media_type' },
  { name: 'text/json', send: () => push(server.url, victimBody(), { 'content-type': 'text/json' }), status: 415, code: 'unsupported_media_type' },
  {
    name: 'multipart/form-data',
    send: () => push(server.url, `--x\r\nContent-Disposition: form-data; name="tokens"\r\n\r\n${VICTIM}\r\n--x--`, { 'content-type': 'multipart/form-data; boundary=x' }),
    status: 415,
    code: 'unsupported_media_type',
  },
  { name: 'a list of content types', send: () => push(server.url, victimBody(), { 'content-type': 'application/json, text/html' }), status: 415, code: 'unsupported_media_type' },
  { name: 'a gzip body (x-gzip)', send: () => push(server.url, new Uint8Array(gzipSync(victimBody())), { 'content-encoding': 'x-gzip' }), status: 415, code: 'unsupported_media_type' },
  { name: 'a deflate body', send: () => push(server.url, new Uint8Array(deflateSync(victimBody())), { 'content-encoding': 'deflate' }), status: 415, code: 'unsupported_media_type' },
  { name: 'a brotli body', send: () => push(server.url, new Uint8Array(brotliCompressSync(victimBody())), { 'content-encoding': 'br' }), status: 415, code: 'unsupported_media_type' },
  { name: 'stacked encodings "identity, gzip"', send: () => push(server.url, new Uint8Array(gzipSync(victimBody())), { 'content-encoding': 'identity, gzip' }), status: 415, code: 'unsupported_media_type' },

  // --- size ----------------------------------------------------------------
  {
    name: 'a declared 10 MiB body that never comes',
    send: () =>
      rawRequest(
        `POST /api/push HTTP/1.1\nHost: 127.0.0.1:${server.port}\nAuthorization: Bearer ${TEST_PUSH_KEY}\nContent-Type: application/json\nContent-Length: ${10 * 1024 * KIB}\nConnection: close`,
        `{"tokens":["${VICTIM}"],"data":"`,
      ),
    status: 413,
    code: 'payload_too_large',
  },
  { name: 'a 512 KiB body streamed without Content-Length', send: () => push(server.url, streamed(512 * KIB)), status: 413, code: 'payload_too_large' },
  { name: '1000 recipients of 128 characters (over 64 KiB)', send: () => push(server.url, { tokens: Array.from({ length: 1000 }, (_, i) => String(i).padStart(128, 'u')) }), status: 413, code: 'payload_too_large' },
  {
    name: 'data of 8,200 two-byte characters (16,402 bytes, under 16 Ki characters)',
    send: () => push(server.url, victimBody({ data: 'é'.repeat(8_200) })),
    status: 400,
    code: 'validation_failed',
    check: (res) => expect(res.body.error.message).toContain('data'),
  },

  // --- recipients and ids --------------------------------------------------
  {
    name: '1001 recipients under the userIds alias',
    send: () => push(server.url, { userIds: [VICTIM, ...Array.from({ length: 1000 }, (_, i) => `other-${i}`)] }),
    status: 400,
    code: 'validation_failed',
    check: (res) => expect(res.body.error.message).toContain('at most 1000'),
  },
  { name: 'tokens as an array-like object', send: () => push(server.url, { tokens: { 0: VICTIM, length: 1 } }), status: 400, code: 'validation_failed' },
  { name: 'tokens as null', send: () => push(server.url, { tokens: null }), status: 400, code: 'validation_failed' },
  { name: 'tokens as a nested array', send: () => push(server.url, { tokens: [[VICTIM]] }), status: 400, code: 'validation_failed' },
  { name: 'tokens as a boolean', send: () => push(server.url, { tokens: true }), status: 400, code: 'validation_failed' },
  { name: 'a duplicate tokens key whose last value is a string', send: () => push(server.url, `{"tokens":["${VICTIM}"],"tokens":"${VICTIM}"}`), status: 400, code: 'validation_failed' },
  { name: 'a recipient with an ANSI escape sequence', send: () => push(server.url, { tokens: [VICTIM, '\u001b[31mroot\u001b[0m'] }), status: 400, code: 'validation_failed' },
  {
    name: 'a recipient with a lone UTF-16 surrogate',
    send: () => push(server.url, `{"tokens":["${VICTIM}","evil\\ud800"]}`),
    status: 400,
    code: 'validation_failed',
    check: (res) => expect(res.body.error.message).toContain('tokens[1]'),
  },
  { name: 'a recipient id of 60,000 characters', send: () => push(server.url, { tokens: [VICTIM, 'u'.repeat(60_000)] }), status: 400, code: 'validation_failed' },
  { name: 'a notification id of 129 characters', send: () => push(server.url, victimBody({ id: 'i'.repeat(129) })), status: 400, code: 'validation_failed' },
  { name: 'a notification id with a NUL', send: () => push(server.url, victimBody({ id: 'ok\u0000id' })), status: 400, code: 'validation_failed' },
  { name: 'a notification id with a path traversal', send: () => push(server.url, victimBody({ id: '../../etc/passwd' })), status: 400, code: 'validation_failed' },
  { name: 'an entityType with a NUL', send: () => push(server.url, victimBody({ entityType: 'like\u0000' })), status: 400, code: 'validation_failed' },
  { name: 'an entityType of 65 characters', send: () => push(server.url, victimBody({ entityType: 'e'.repeat(65) })), status: 400, code: 'validation_failed' },
  { name: 'an Idempotency-Key of 129 characters', send: () => push(server.url, victimBody(), { 'idempotency-key': 'k'.repeat(129) }), status: 400, code: 'validation_failed' },
  { name: 'an infinite number (1e999) in data', send: () => push(server.url, `{"tokens":["${VICTIM}"],"data":1e999}`), status: 400, code: 'validation_failed' },
  {
    name: 'recipients named after Object.prototype members',
    send: () => push(server.url, { tokens: ['__proto__', 'constructor', 'toString', 'hasOwnProperty', VICTIM] }),
    status: 202,
    code: null,
    check: (res) => expect(res.body).toEqual({ id: expect.stringMatching(UUID), recipients: 5, online: 1 }),
  },

  // --- methods and the bearer key -------------------------------------------
  { name: 'HEAD', send: () => request(server.url, '/api/push', { method: 'HEAD', headers: bearer }), status: 405, code: null },
  {
    name: 'a CORS preflight from a foreign origin',
    send: () =>
      request(server.url, '/api/push', {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      }),
    status: 204,
    code: null,
    check: (res) => {
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-headers')).toBeNull();
    },
  },
  { name: 'an empty Bearer', send: () => post(victimBody(), { 'content-type': 'application/json', authorization: 'Bearer ' }), status: 401, code: 'unauthorized' },
  { name: 'the key without a scheme', send: () => post(victimBody(), { 'content-type': 'application/json', authorization: TEST_PUSH_KEY }), status: 401, code: 'unauthorized' },
  { name: 'the key twice', send: () => post(victimBody(), { 'content-type': 'application/json', authorization: `Bearer ${TEST_PUSH_KEY} ${TEST_PUSH_KEY}` }), status: 401, code: 'unauthorized' },
  {
    name: 'the key in the query string instead of a header',
    send: () => request(server.url, `/api/push?key=${TEST_PUSH_KEY}&authorization=Bearer%20${TEST_PUSH_KEY}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: victimBody() }),
    status: 401,
    code: 'unauthorized',
  },
  { name: 'no key and invalid JSON (authentication comes first)', send: () => post('{"tokens":', { 'content-type': 'application/json' }), status: 401, code: 'unauthorized' },

  // --- signed requests -----------------------------------------------------
  { name: 'a correctly signed request', send: () => signed(victimBody({ data: 'signed' })), status: 202, code: null },
  {
    name: 'a correctly signed request with an upper-case signature',
    send: () => {
      const body = victimBody({ data: 'signed, upper case' });
      const timestamp = String(nowSeconds());
      return signed(body, { timestamp, signature: hmac(TEST_PUSH_KEY, timestamp, body).toUpperCase() });
    },
    status: 202,
    code: null,
  },
  {
    name: 'a signature without a timestamp',
    send: () => post(victimBody(), { 'content-type': 'application/json', 'x-herald-signature': hmac(TEST_PUSH_KEY, nowSeconds(), victimBody()) }),
    status: 401,
    code: 'signature_invalid',
  },
  { name: 'a timestamp without a signature', send: () => post(victimBody(), { 'content-type': 'application/json', 'x-herald-timestamp': String(nowSeconds()) }), status: 401, code: 'signature_invalid' },
  { name: 'a non-numeric timestamp', send: () => signed(victimBody(), { timestamp: 'yesterday' }), status: 401, code: 'signature_invalid' },
  { name: 'a timestamp in milliseconds', send: () => signed(victimBody(), { timestamp: String(Date.now()) }), status: 401, code: 'signature_invalid' },
  { name: 'a negative timestamp', send: () => signed(victimBody(), { timestamp: '-1' }), status: 401, code: 'signature_invalid' },
  { name: 'a signature that is not hex', send: () => signed(victimBody(), { signature: 'z'.repeat(64) }), status: 401, code: 'signature_invalid' },
  { name: 'a signature one hex digit short', send: () => signed(victimBody(), { signature: hmac(TEST_PUSH_KEY, nowSeconds(), victimBody()).slice(1) }), status: 401, code: 'signature_invalid' },
  {
    name: 'a signature with a "sha256=" prefix',
    send: () => signed(victimBody(), { signature: `sha256=${hmac(TEST_PUSH_KEY, nowSeconds(), victimBody())}` }),
    status: 401,
    code: 'signature_invalid',
  },
  { name: 'a signature made with another key', send: () => signed(victimBody(), { key: 'wrong-key-wrong-key-wrong-key' }), status: 401, code: 'signature_invalid' },
  {
    name: 'a signed body altered in transit',
    send: () => signed(victimBody({ data: 'hacked' }), { signedBody: victimBody({ data: 'hello' }) }),
    status: 401,
    code: 'signature_invalid',
  },
  {
    name: 'a signed timestamp altered in transit',
    send: () => {
      const ts = nowSeconds();
      return signed(victimBody(), { timestamp: String(ts - 1), signedTimestamp: String(ts) });
    },
    status: 401,
    code: 'signature_invalid',
  },
  {
    name: 'a signed timestamp re-written with a leading zero',
    send: () => {
      const ts = String(nowSeconds());
      return signed(victimBody(), { timestamp: `0${ts}`, signedTimestamp: ts });
    },
    status: 401,
    code: 'signature_invalid',
  },
  { name: 'a signed request 6 minutes old', send: () => signed(victimBody(), { timestamp: String(nowSeconds() - 360) }), status: 401, code: 'signature_expired' },
  { name: 'a signed request 6 minutes in the future', send: () => signed(victimBody(), { timestamp: String(nowSeconds() + 360) }), status: 401, code: 'signature_expired' },
  {
    name: 'an exact replay of an accepted signed request',
    send: async () => {
      const body = victimBody({ data: 'pay once' });
      const timestamp = String(nowSeconds());
      const first = await signed(body, { timestamp });
      expect(first.status).toBe(202);
      return signed(body, { timestamp });
    },
    status: 401,
    code: 'signature_replayed',
  },
  {
    name: 'a replay with the signature in upper case',
    send: async () => {
      const body = victimBody({ data: 'pay once, loudly' });
      const timestamp = String(nowSeconds());
      const first = await signed(body, { timestamp });
      expect(first.status).toBe(202);
      return signed(body, { timestamp, signature: hmac(TEST_PUSH_KEY, timestamp, body).toUpperCase() });
    },
    status: 401,
    code: 'signature_replayed',
  },
  {
    name: 'a valid bearer key with a bad signature',
    send: () => signed(victimBody(), { signature: '0'.repeat(64), extra: { authorization: `Bearer ${TEST_PUSH_KEY}` } }),
    status: 401,
    code: 'signature_invalid',
  },
  { name: 'a bad signature over invalid JSON (authentication comes first)', send: () => signed('{"tokens":', { signature: 'a'.repeat(64) }), status: 401, code: 'signature_invalid' },
  { name: 'a correctly signed body that fails validation', send: () => signed(JSON.stringify({ tokens: [VICTIM], colour: 'red' })), status: 400, code: 'validation_failed' },

  // --- links ---------------------------------------------------------------
  { name: 'a javascript: link', send: () => push(server.url, victimBody({ data: { link: 'javascript:alert(document.cookie)' } })), status: 400, code: 'validation_failed' },
  { name: 'a javascript: link with leading spaces and mixed case', send: () => push(server.url, victimBody({ data: { link: '  JaVaScRiPt:alert(1)' } })), status: 400, code: 'validation_failed' },
  { name: 'a data: link', send: () => push(server.url, victimBody({ data: { link: 'data:text/html,<script>alert(1)</script>' } })), status: 400, code: 'validation_failed' },
  { name: 'a relative link', send: () => push(server.url, victimBody({ data: { link: '/settings/delete-account' } })), status: 400, code: 'validation_failed' },
  { name: 'a protocol-relative link', send: () => push(server.url, victimBody({ data: { link: '//evil.example/x' } })), status: 400, code: 'validation_failed' },
  { name: 'a link with credentials', send: () => push(server.url, victimBody({ data: { link: 'https://admin:hunter2@evil.example/' } })), status: 400, code: 'validation_failed' },
  { name: 'a file: link', send: () => push(server.url, victimBody({ data: { link: 'file:///etc/passwd' } })), status: 400, code: 'validation_failed' },
  { name: 'a link that is an object', send: () => push(server.url, victimBody({ data: { link: { href: 'https://example.com' } } })), status: 400, code: 'validation_failed' },
  { name: 'a link of 2049 characters', send: () => push(server.url, victimBody({ data: { link: `https://example.com/${'a'.repeat(2049 - 20)}` } })), status: 400, code: 'validation_failed' },
  {
    name: 'a valid https link',
    send: () => push(server.url, victimBody({ data: { text: 'Your order shipped', link: 'https://shop.example/orders/42' } })),
    status: 202,
    code: null,
  },
];

describe('hostile HTTP input to /api/push', () => {
  /** Ids the table's accepted rows pushed to the victim, in order. */
  const accepted: string[] = [];

  it('has at least 40 rows, each with a distinct name', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });

  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_, row) => {
    const res = await row.send();
    expect({ status: res.status, code: res.body?.error?.code ?? null }).toEqual({ status: row.status, code: row.code });
    if (row.code !== null) expect(res.body).toEqual({ error: { code: row.code, message: expect.any(String) } });
    if (row.status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^(Bearer|HeraldSignature)/);
    row.check?.(res);
    if (row.status === 202) accepted.push(res.body.id as string);
  });

  it('delivered exactly the accepted rows to the victim, and nothing from a refused one', async () => {
    expect(accepted.length).toBe(rows.filter((r) => r.status === 202).length);
    const marker = await push(server.url, { tokens: [VICTIM], entityType: 'barrier' });
    expect(marker.status).toBe(202);
    await waitForId(victim, marker.body.id as string);
    const got = victim.received.map((n) => n.id);
    // The two replay rows pushed an accepted original before the replay.
    expect(got.length).toBe(accepted.length + 2 + 1);
    for (const id of accepted) expect(got).toContain(id);
    expect(new Set(got).size).toBe(got.length);
    const delivered = JSON.stringify(victim.received.map((n) => n.data));
    expect(delivered).not.toContain('hacked');
    expect(delivered).not.toContain('javascript:');
    // The refused __proto__ rows' contents went nowhere (the constructor row's are plain data, kept as sent).
    expect(delivered).not.toContain('"entityType":"polluted"');
    expect(delivered).not.toContain('"data":"polluted"');
    expect(delivered).toContain('{"__proto__x":1,"proto":2}');
    expect(victim.socket.connected).toBe(true);
  });

  it('still delivers a good push afterwards, with defaults no request could pollute', async () => {
    const res = await push(server.url, { tokens: [VICTIM] });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.stringMatching(UUID), recipients: 1, online: 1 });
    await waitForId(victim, res.body.id as string);
    const n = victim.received.find((m) => m.id === res.body.id);
    // Had any row reached Object.prototype, these defaults would read its values.
    expect(n).toEqual({ id: res.body.id, seq: expect.any(Number), entityType: 'message', data: null, createdAt: expect.any(String), read: false });

    // The signed path too.
    const signedRes = await signed(JSON.stringify({ tokens: [VICTIM], data: { ok: true } }));
    expect(signedRes.status).toBe(202);
    await waitForId(victim, signedRes.body.id as string);
    expect(victim.received.find((m) => m.id === signedRes.body.id)).toMatchObject({ entityType: 'message', data: { ok: true } });
  });

  it('never answered 500 and is still healthy', async () => {
    expect(server.process.exitCode).toBeNull();
    const serverErrors = server.logs.filter((l) => /"status":5\d\d|unhandled error|uncaught/i.test(l));
    expect(serverErrors).toEqual([]);
    const health = await request(server.url, '/healthz');
    expect(health.status).toBe(200);
  });
});

describe('push rate limit (PUSH_RATE_LIMIT=5, bursts of 10)', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startServer({ mode: 'production', env: { PUSH_RATE_LIMIT: '5' } });
  });
  afterAll(async () => {
    await limited?.stop();
    limited?.cleanup();
  });

  const signedTo = (url: string, body: string, timestamp = String(nowSeconds())) =>
    request(url, '/api/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-herald-timestamp': timestamp, 'x-herald-signature': hmac(TEST_PUSH_KEY, timestamp, body) },
      body,
    });

  it('answers 429 rate_limited with Retry-After after the burst, not spent by unauthenticated callers, and accepts again later', async () => {
    // An attacker without the key: wrong bearers and well-formed but forged signatures.
    const attacks = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2
          ? push(limited.url, { tokens: ['rl'] }, { authorization: 'Bearer not-the-key-not-the-key' })
          : request(limited.url, '/api/push', {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-herald-timestamp': String(nowSeconds()), 'x-herald-signature': i.toString(16).padStart(64, 'f') },
              body: JSON.stringify({ tokens: ['rl'] }),
            }),
      ),
    );
    expect(new Set(attacks.map((r) => `${r.status} ${r.body.error.code}`))).toEqual(new Set(['401 unauthorized', '401 signature_invalid']));

    // The backend still has its whole burst: push until the first refusal (bounded).
    const started = performance.now();
    let ok = 0;
    let refused: HttpResult | undefined;
    for (let i = 0; i < 100 && !refused; i++) {
      const res = await push(limited.url, { tokens: ['rl'], data: i });
      if (res.status === 202) ok++;
      else refused = res;
    }
    const elapsedSeconds = (performance.now() - started) / 1000;
    expect(ok).toBeGreaterThanOrEqual(10);
    // No more than the burst plus what the rate refilled meanwhile.
    expect(ok).toBeLessThanOrEqual(10 + Math.ceil(5 * elapsedSeconds) + 1);
    expect(refused?.status).toBe(429);
    expect(refused?.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
    const retryAfter = Number(refused?.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);

    // A signed request refused for the rate is not "used": the same bytes go through after waiting.
    let refusedSigned: { body: string; timestamp: string } | undefined;
    for (let i = 0; i < 20 && !refusedSigned; i++) {
      const attempt = { body: JSON.stringify({ tokens: ['rl'], data: `signed ${i}` }), timestamp: String(nowSeconds()) };
      const res = await signedTo(limited.url, attempt.body, attempt.timestamp);
      if (res.status === 429) refusedSigned = attempt;
      else expect(res.status).toBe(202);
    }
    expect(refusedSigned).toBeDefined();

    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 250));
    const again = await push(limited.url, { tokens: ['rl'], data: 'after waiting' });
    expect(again.status).toBe(202);
    const retried = await signedTo(limited.url, refusedSigned!.body, refusedSigned!.timestamp);
    expect({ status: retried.status, body: retried.body }).toEqual({ status: 202, body: expect.objectContaining({ recipients: 1 }) });
  });
});
