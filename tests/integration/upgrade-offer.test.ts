import { describe, expect, it } from 'vitest';
import { RawHttp } from '../support/rawHttp';
import { TEST_PUSH_KEY } from '../support/server';
import { waitForId } from '../support/socket';
import { serverSuite } from '../support/suite';

/**
 * A backend whose HTTP client offers an upgrade Herald does not speak gets an
 * ordinary HTTP/1.1 answer. Java's HttpClient (HTTP/2 by default) sends its first
 * request to an http:// URL with exactly these headers; before, socket.io's
 * engine ended such a connection after a second without a byte, and the push was lost.
 */

const H2C_OFFER = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n';

const suite = serverSuite();

function pushRequest(body: string, extra = ''): string {
  return (
    `POST /api/push HTTP/1.1\r\nHost: 127.0.0.1:${suite.server.port}\r\n${extra}` +
    `Authorization: Bearer ${TEST_PUSH_KEY}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

describe('an upgrade offer Herald does not speak (h2c)', () => {
  it('answers a push that offers h2c over HTTP/1.1, delivers it, and keeps the connection for the next request', async () => {
    // A page first: Next adds its own 'upgrade' listener to the server on the first request it serves.
    const page = await fetch(`${suite.server.url}/`);
    expect(page.status).toBe(200);
    await page.text();
    const client = await suite.connect('h2c-1');
    const http = await RawHttp.open(suite.server.port);
    try {
      http.write(pushRequest(JSON.stringify({ tokens: ['h2c-1'], data: 'from a Java client ✓' }), H2C_OFFER));
      const first = await http.response();
      expect(first.statusLine).toMatch(/^HTTP\/1\.1 202 /);
      expect(first.headers.upgrade).toBeUndefined();
      const accepted = JSON.parse(first.body) as { id: string; recipients: number; online: number };
      expect(accepted).toMatchObject({ recipients: 1, online: 1 });
      await waitForId(client, accepted.id);
      expect(client.received.map((n) => n.data)).toEqual(['from a Java client ✓']);

      // Same connection, a plain request next (keep-alive): served as usual.
      http.write(pushRequest(JSON.stringify({ tokens: ['h2c-1'], data: 'second' })));
      const second = await http.response();
      expect(second.status).toBe(202);
      await waitForId(client, (JSON.parse(second.body) as { id: string }).id);
      expect(http.closed).toBe(false);
    } finally {
      http.close();
    }
  });

  it('reads a body that arrives after the head, in pieces', async () => {
    const client = await suite.connect('h2c-2');
    const http = await RawHttp.open(suite.server.port);
    try {
      const body = JSON.stringify({ tokens: ['h2c-2'], data: { text: 'x'.repeat(3000) } });
      const request = pushRequest(body, H2C_OFFER);
      const cut = request.indexOf('\r\n\r\n') + 4;
      http.write(request.slice(0, cut));
      await new Promise((resolve) => setTimeout(resolve, 50));
      http.write(request.slice(cut, cut + 1000));
      await new Promise((resolve) => setTimeout(resolve, 50));
      http.write(request.slice(cut + 1000));
      const res = await http.response();
      expect(res.status).toBe(202);
      await waitForId(client, (JSON.parse(res.body) as { id: string }).id);
      expect((client.received[0]?.data as { text: string }).text).toHaveLength(3000);
    } finally {
      http.close();
    }
  });

  it('applies the usual checks to such a request: a wrong key is 401 with the error body', async () => {
    const http = await RawHttp.open(suite.server.port);
    try {
      const body = JSON.stringify({ tokens: ['h2c-3'] });
      http.write(
        `POST /api/push HTTP/1.1\r\nHost: x\r\n${H2C_OFFER}Authorization: Bearer wrong-key\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      const res = await http.response();
      expect(res.status).toBe(401);
      expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('unauthorized');
    } finally {
      http.close();
    }
  });

  it('answers a GET that offers h2c (health check) the same way', async () => {
    const http = await RawHttp.open(suite.server.port);
    try {
      http.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n${H2C_OFFER}\r\n`);
      const res = await http.response();
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ status: 'ok' });
    } finally {
      http.close();
    }
  });
});
