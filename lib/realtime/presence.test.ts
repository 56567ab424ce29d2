import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type PrivateRedis } from '../../tests/support/services';
import { eventually, eventuallyAsync } from '../../tests/support/socket';
import { createLogger } from '../log';
import { RedisPresence, roomsOf } from './presence';

/** Two nodes' presence over a private redis-server (never the machine's shared one). */

let redis: PrivateRedis;
const clients: Array<ReturnType<typeof createClient>> = [];
const quiet = createLogger({ level: 'silent', format: 'json' });

beforeAll(async () => {
  redis = await startRedis();
}, 20_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await redis?.stop();
});

/**
 * A node: its rooms (user → socket ids), and presence over a command and a
 * subscriber connection. `subscribeAfterMs` holds its subscription back that
 * long, as a slow start does: the node announces itself only once subscribed.
 */
async function node(id: string, prefix: string, subscribeAfterMs = 0) {
  const pub = createClient({ url: redis.url });
  const sub = pub.duplicate();
  clients.push(pub, sub);
  await Promise.all([pub.connect(), sub.connect()]);
  const rooms = new Map<string, Set<string>>();
  const subscriber = {
    subscribe: async (channel: string, listener: (message: string) => void) => {
      await new Promise((r) => setTimeout(r, subscribeAfterMs));
      return sub.subscribe(channel, listener);
    },
    unsubscribe: (channel: string, listener: (message: string) => void) => sub.unsubscribe(channel, listener),
  };
  const presence = new RedisPresence(roomsOf(rooms, 'user:'), pub, subscriber, id, quiet, prefix);
  const join = (user: string, sid: string) => {
    const set = rooms.get(`user:${user}`) ?? new Set<string>();
    rooms.set(`user:${user}`, set.add(sid));
    presence.changed(user);
  };
  const leave = (user: string, sid: string) => {
    rooms.get(`user:${user}`)?.delete(sid);
    presence.changed(user);
  };
  return { presence, join, leave, pub };
}

describe('RedisPresence', () => {
  it('counts users on this node and on the others from memory, kept current by the other nodes’ messages', async () => {
    const prefix = `presence-a-${process.pid}`;
    const a = await node('a', prefix);
    const b = await node('b', prefix);
    try {
      a.join('alice', 's1');
      b.join('bob', 's2');
      await eventually(() => a.presence.online(['alice', 'bob', 'nobody']) === 2 && b.presence.online(['alice', 'bob']) === 2);
      b.leave('bob', 's2');
      await eventually(() => a.presence.online(['bob']) === 0);
      expect(a.presence.online(['alice'])).toBe(1);
    } finally {
      await Promise.all([a.presence.close(), b.presence.close()]);
    }
  });

  it('keeps a user another node announced while that node was still starting, through a reload', async () => {
    const prefix = `presence-start-${process.pid}`;
    const b = await node('b', prefix);
    // b announces itself once subscribed: from then on it hears every change.
    await eventuallyAsync(async () => (await b.pub.sMembers(`${prefix}:nodes`)).includes('b'));
    // a's subscription, and so its own announcement, is held back: the reload below comes first.
    const a = await node('a', prefix, 1_000);
    try {
      a.join('alice', 's1');
      await eventually(() => b.presence.online(['alice']) === 1);
      await b.presence.reload();
      expect(b.presence.online(['alice'])).toBe(1);
    } finally {
      await Promise.all([a.presence.close(), b.presence.close()]);
    }
  });

  it('learns what another node held before it started, and forgets a node that closed', async () => {
    const prefix = `presence-b-${process.pid}`;
    const b = await node('b', prefix);
    b.join('carol', 's1');
    const a = await node('a', prefix);
    try {
      await eventually(() => a.presence.online(['carol']) === 1);
      await b.presence.close();
      await a.presence.reload();
      expect(a.presence.online(['carol'])).toBe(0);
    } finally {
      await a.presence.close();
    }
  });

  it('answers at once while Redis is frozen, from what it knew', async () => {
    const prefix = `presence-c-${process.pid}`;
    const a = await node('a', prefix);
    const b = await node('b', prefix);
    try {
      b.join('dave', 's1');
      await eventually(() => a.presence.online(['dave']) === 1);
      redis.freeze();
      const started = performance.now();
      b.join('erin', 's2');
      expect(a.presence.online(['dave', 'erin'])).toBe(1);
      expect(performance.now() - started).toBeLessThan(50);
    } finally {
      redis.thaw();
      await Promise.all([a.presence.close(), b.presence.close()]);
    }
  });
});
