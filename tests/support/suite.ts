import { afterAll, afterEach, beforeAll } from 'vitest';
import { startServer, tokenFor, type ServerOptions, type TestServer } from './server';
import { connectClient, type ClientOptions, type ConnectedClient } from './socket';

/**
 * One real server for a test file (started before, stopped and deleted after),
 * and clients that are closed after each test.
 */
export function serverSuite(opts: ServerOptions = { mode: 'production' }) {
  let server: TestServer | undefined;
  const open: ConnectedClient[] = [];
  beforeAll(async () => {
    server = await startServer(opts);
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });
  return {
    get server(): TestServer {
      if (!server) throw new Error('the server is not started yet');
      return server;
    },
    /** A client for `userId` (token signed with the test secret), closed after the test. */
    async connect(userId: string, opts: ClientOptions = {}): Promise<ConnectedClient> {
      const client = await connectClient(this.server.url, { token: await tokenFor(userId) }, opts);
      open.push(client);
      return client;
    },
  };
}
