import { connect as tcpConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serverSuite } from '../support/suite';

/**
 * The quick start's `npm run dev`: `next dev` inside server.ts (the only file that
 * starts one; Next allows one per directory). Its hot-reload WebSocket must open
 * from either loopback name: the log prints http://localhost:<port>, and a page
 * opened at http://127.0.0.1:<port> is another origin to Next, which refused
 * the upgrade with a bare "Unauthorized" until next.config.js allowed it.
 */

const suite = serverSuite({ mode: 'development' });

/** A WebSocket upgrade to Next's hot-reload endpoint with this Origin; resolves the first bytes of the answer. */
function hmrUpgrade(port: number, origin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let answer = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    // A bound, not a timing assertion: the first bytes decide.
    const timer = setTimeout(done, 10_000);
    socket.on('connect', () =>
      socket.write(
        `GET /_next/hmr?id=test HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: ${origin}\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n\r\n') || !answer.startsWith('HTTP/')) done();
    });
    socket.on('error', reject);
  });
}

describe('npm run dev', () => {
  it('serves the demo page and opens the hot-reload WebSocket from localhost and from 127.0.0.1', async () => {
    const { port, url } = suite.server;
    // Next compiles the page on the first request, and adds its upgrade listener then.
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    await page.text();
    for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
      const answer = await hmrUpgrade(port, origin);
      expect({ origin, status: answer.split('\r\n')[0] }).toEqual({ origin, status: 'HTTP/1.1 101 Switching Protocols' });
    }
  });
});
