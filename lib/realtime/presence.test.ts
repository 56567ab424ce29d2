import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedis, type PrivateRedis } from '../../tests/support/services';
import { createLogger } from '../log';
import { RedisPresence, roomsOf, type PresenceRedis } from './presence';

// A private redis-server (never the machine's shared one), and the client Herald uses.
let redis: PrivateRedis;
let client: ReturnType<typeof createClient>;

beforeAll(async () => {
  redis = await startRedis();
  client = createClient({ url: redis.url });
  await client.connect();
}, 20_000);

afterAll(async () => {
  await client?.quit().catch(() => undefined);
  await redis?.stop();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('RedisPresence.online', () => {
  it('counts users online on this node and on the others, and leaves no timer behind once answered', async () => {
    const rooms = new Map([['user:here', new Set(['s1'])]]);
    const prefix = `presence-test-${process.pid}`;
    const presence = new RedisPresence(roomsOf(rooms, 'user:'), client as unknown as PresenceRedis, 'n1', createLogger({ level: 'silent', format: 'json' }), prefix);
    try {
      // Another live node holding one user.
      await client.sAdd(`${prefix}:nodes`, ['n1', 'n2']);
      await client.set(`${prefix}:node:n2`, '1');
      await client.hSet(`${prefix}:presence:n2`, 'there', '1');
      // Only setTimeout and clearTimeout are faked: Redis I/O goes on as usual, and
      // every timer online() starts is counted.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      expect(vi.getTimerCount()).toBe(0);
      expect(await presence.online(['here', 'there', 'nobody'])).toBe(2);
      expect(vi.getTimerCount()).toBe(0);
      expect(await presence.online(['nobody'])).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
      await presence.close();
      await client.del([`${prefix}:nodes`, `${prefix}:node:n2`, `${prefix}:presence:n2`, `${prefix}:presence:n1`, `${prefix}:node:n1`]);
    }
  });
});
