import { describe, expect, it } from 'vitest';
import { RawHttp } from '../support/rawHttp';
import { serverSuite } from '../support/suite';

/**
 * The quick start's `npm run dev`: `next dev` inside server.ts (the only file that
 * starts one; Next allows one per directory). Its hot-reload WebSocket must open
 * from either loopback name: the log prints http://localhost:<port>, and a page
 * opened at http://127.0.0.1:<port> is another origin to Next, which refused
 * the upgrade with a bare "Unauthorized" until next.config.js allowed it.
 */

const suite = serverSuite({ mode: 'development' });

/** A WebSocket upgrade to Next's hot-reload endpoint with this Origin; resolves the status line of the answer. */
async function hmrUpgrade(port: number, origin: string): Promise<string> {
  const http = await RawHttp.open(port);
  try {
    http.write(
      `GET /_next/hmr?id=test HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: ${origin}\r\n\r\n`,
    );
    return (await http.response()).statusLine;
  } finally {
    http.close();
  }
}

describe('npm run dev', () => {
  it('serves the demo page and opens the hot-reload WebSocket from localhost and from 127.0.0.1', async () => {
    const { port, url } = suite.server;
    // Next compiles the page on the first request, and adds its upgrade listener then.
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    await page.text();
    for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
      const status = await hmrUpgrade(port, origin).catch((err: Error) => err.message);
      expect({ origin, status }).toEqual({ origin, status: 'HTTP/1.1 101 Switching Protocols' });
    }
    // Next compiles the page on this first request: tens of seconds on a busy 2-core machine.
  }, 120_000);
});
