import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { push, startServer, type TestServer } from '../support/server';

/**
 * Slowloris: a client that trickles its request head, a byte-sized header line
 * at a time, to hold a connection forever. The server's headersTimeout (10 s,
 * lib/boot.ts) must end it with 408, however steadily it trickles, while other
 * clients are served as usual. Node checks the timeouts every 2 s (lib/boot.ts),
 * so the cut comes 10 to 12 s after the connection opened.
 */

const TRICKLE_EVERY_MS = 1_000;
/** Give up trickling after this long: the server should have cut us off well before. */
const TRICKLE_FOR_MS = 25_000;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ mode: 'production' });
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

describe('slow clients', () => {
  it('ends a connection that trickles its headers with 408, and serves everyone else meanwhile', async () => {
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString()));
    socket.on('error', () => undefined);
    const openedAt = Date.now();
    let closedAt = 0;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`POST /api/push HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);

    let lines = 0;
    let cutOff = false;
    void closed.then(() => {
      cutOff = true;
      closedAt = Date.now();
    });
    const deadline = Date.now() + TRICKLE_FOR_MS;
    while (!cutOff && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, TRICKLE_EVERY_MS));
      if (!cutOff) socket.write(`X-Slow-${lines++}: still coming\r\n`);
      // Everyone else is unaffected while this connection hangs on.
      if (lines === 3) expect((await push(server.url, { tokens: ['someone'], data: 'meanwhile' })).status).toBe(202);
    }
    socket.destroy();

    expect(cutOff).toBe(true);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    // The cut is the headers timeout (10 s from the first byte), not idleness: the connection
    // lived past it while it sent a line every second (a busy machine sends fewer).
    expect(closedAt - openedAt).toBeGreaterThanOrEqual(9_900);
    expect(lines).toBeGreaterThanOrEqual(5);
    expect(server.process.exitCode).toBeNull();
  }, TRICKLE_FOR_MS + 15_000);
});
