import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { push, startServer, tokenFor, type TestServer } from '../support/server';
import { connectClient, connectError, waitForId } from '../support/socket';

/**
 * Deployments behind a proxy serve socket.io under a prefix: with SOCKET_PATH
 * set, that path works and the default one is not served.
 */

const PREFIXED = '/ws/socket.io';
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ mode: 'production', env: { SOCKET_PATH: PREFIXED } });
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

/** Sends a bare WebSocket upgrade for `path`; resolves how the server answered. */
function rawUpgrade(path: string, port: number): Promise<{ closed: boolean; response: string }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let response = '';
    // A bound, not a timing assertion: a server that never answers fails here.
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, response });
    }, 10_000);
    socket.on('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      ),
    );
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, response });
    });
  });
}

describe('a prefixed socket path', () => {
  it('connects and delivers on the configured path', async () => {
    const client = await connectClient(server.url, { token: await tokenFor('path-1') }, { path: PREFIXED });
    try {
      const res = await push(server.url, { tokens: ['path-1'], data: 'behind a proxy' });
      expect(res.status).toBe(202);
      expect(res.body.online).toBe(1);
      await waitForId(client, res.body.id as string);
      expect(client.received.map((n) => n.data)).toEqual(['behind a proxy']);
    } finally {
      client.close();
    }
  });

  it('does not serve the default path over WebSocket', async () => {
    const message = await connectError(server.url, { token: await tokenFor('path-1') }, { path: '/socket.io' });
    // The server must turn the upgrade away, not leave it hanging until the client gives up.
    expect(message).toBe('websocket error');
  });

  it('does not serve the default path over HTTP long-polling', async () => {
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });

  it('closes a WebSocket upgrade for a path it does not serve', async () => {
    const { closed, response } = await rawUpgrade('/socket.io/?EIO=4&transport=websocket', server.port);
    expect(closed).toBe(true);
    expect(response).not.toMatch(/^HTTP\/1\.1 101/);
  });
});
