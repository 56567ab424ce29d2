import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InboxUnavailableError } from '../../lib/errors';
import { runInboxContract, storedOf } from './contract';
import { openPostgresInbox, type PostgresInbox } from '../../lib/inbox/postgres';
import type { AppendInput, InboxOptions } from '../../lib/inbox/types';

/**
 * The inbox contract and the cluster-only guarantees, against a real
 * PostgreSQL. Each test works in a fresh schema that is dropped afterwards.
 * These tests never skip: without PostgreSQL they fail, loudly. One file a
 * little past ~350 lines: its parts share the admin connection and the fresh
 * schema per test.
 */

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const OPTS: InboxOptions = { maxPerUser: 500, ttlDays: 30 };
/** An unreachable database must fail a call within this long (connect timeout is 2 s). */
const FAIL_FAST_MS = 4000;

/** A connection that goes silent mid-use is given up after the query timeout (5.5 s). */
const STALL_FAIL_MS = 8000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const freshSchema = () => `herald_test_${randomBytes(6).toString('hex')}`;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Deliveries whose notification is gone (must be 0), and how many notifications are stored. */
const integrity = (schema: string) =>
  admin(async (c) => {
    const { rows } = await c.query<{ dangling: number; notifications: number }>(
      `SELECT (SELECT COUNT(*)::int FROM ${schema}.deliveries d
                WHERE NOT EXISTS (SELECT 1 FROM ${schema}.notifications n WHERE n.seq = d.seq)) AS dangling,
              (SELECT COUNT(*)::int FROM ${schema}.notifications) AS notifications`,
    );
    return rows[0];
  });

const dropSchema = (schema: string) => admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));

// A test, not a beforeAll: a failed hook would report every test as skipped. Without
// PostgreSQL this fails with a clear message, and so does every test that needs it.
it('reaches PostgreSQL at TEST_DATABASE_URL', async () => {
  try {
    await admin((c) => c.query('SELECT 1'));
  } catch (err) {
    throw new Error(
      `PostgreSQL is unreachable at ${DATABASE_URL} (${(err as Error).message}). These tests need it: ` +
        'start it, or point TEST_DATABASE_URL at one.',
    );
  }
});

runInboxContract('postgres', async (opts) => {
  const schema = freshSchema();
  const inbox = await openPostgresInbox(DATABASE_URL, { ...opts, schema });
  return {
    inbox,
    reopen: () => openPostgresInbox(DATABASE_URL, { ...opts, schema }),
    cleanup: () => dropSchema(schema).then(() => undefined),
  };
});

describe('PostgreSQL inbox', () => {
  let schemas: string[] = [];
  let inboxes: PostgresInbox[] = [];
  let n = 0;
  const input = (over: Partial<AppendInput> = {}): AppendInput => {
    n++;
    return { id: `p-${n}`, userIds: ['alice'], entityType: 'like', data: { n }, createdAt: Date.UTC(2025, 0, 1) + n, ...over };
  };
  const schema = () => {
    const s = freshSchema();
    schemas.push(s);
    return s;
  };
  const open = async (s: string, url = DATABASE_URL, opts: InboxOptions = OPTS) => {
    const inbox = await openPostgresInbox(url, { ...opts, schema: s });
    inboxes.push(inbox);
    return inbox;
  };

  afterEach(async () => {
    const [toClose, toDrop] = [inboxes, schemas];
    inboxes = [];
    schemas = [];
    n = 0;
    for (const inbox of toClose) await inbox.close();
    for (const s of toDrop) await dropSchema(s);
  });

  it('returns seqs above 2^32 as exact JS numbers', async () => {
    const s = schema();
    const inbox = await open(s);
    const start = 2 ** 40;
    await admin((c) => c.query(`ALTER SEQUENCE ${s}.notification_seq RESTART WITH ${start}`));
    const a = storedOf(await inbox.append(input()));
    const b = storedOf(await inbox.append(input()));
    expect(a.seq).toBe(start);
    expect(b.seq).toBe(start + 1);
    expect((await inbox.since('alice', a.seq, 10)).items.map((i) => i.seq)).toEqual([b.seq]);
    expect((await inbox.list('alice', { limit: 1 })).nextCursor).toBe(b.seq);
    expect(await inbox.summary('alice')).toEqual({ unread: 2, headSeq: b.seq });
  });

  it('fails only the append whose row the database refuses, not the others in its batch', async () => {
    const inbox = await open(schema());
    // PostgreSQL text cannot hold NUL; validation keeps such ids out, but one bad row must not sink a batch.
    const [bad, good] = await Promise.allSettled([
      inbox.append(input({ id: 'bad', userIds: ['nul\u0000user'] })),
      inbox.append(input({ id: 'good' })),
    ]);
    expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(InboxUnavailableError);
    expect(good.status).toBe('fulfilled');
    expect((await inbox.since('alice', 0, 10)).items.map((i) => i.id)).toEqual(['good']);
  });

  it("deletes the notifications the cap leaves without recipients, and never a delivery's notification", async () => {
    const s = schema();
    const inbox = await open(s, DATABASE_URL, { maxPerUser: 3, ttlDays: 30 });
    const shared = storedOf(await inbox.append(input({ userIds: ['alice', 'bob'] })));
    for (let i = 0; i < 4; i++) await inbox.append(input());
    const swept = await inbox.sweep(Date.UTC(2025, 0, 2));
    expect(swept).toEqual({ deliveriesDeleted: 2, notificationsDeleted: 1, idempotencyDeleted: 0 });
    expect(await integrity(s)).toEqual({ dangling: 0, notifications: 4 });
    expect((await inbox.since('bob', 0, 10)).items).toEqual([shared]);
  });

  describe('two nodes on one database', () => {
    it('both come up when they boot at once against an empty schema', async () => {
      const s = schema();
      const nodes = await Promise.all([open(s), open(s), open(s)]);
      const [a, b, c] = nodes;
      const x = storedOf(await a.append(input()));
      const y = storedOf(await b.append(input()));
      expect(y.seq).toBeGreaterThan(x.seq);
      expect((await c.since('alice', 0, 10)).items.map((i) => i.id)).toEqual([x.id, y.id]);
      const versions = await admin((cl) => cl.query(`SELECT version FROM ${s}.herald_schema_version`));
      expect(versions.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    });

    it('make seqs visible in order: a reader polling `since` never sees one appear below one it saw', async () => {
      const s = schema();
      const [nodeA, nodeB, reader] = await Promise.all<[Promise<PostgresInbox>, Promise<PostgresInbox>, Promise<PostgresInbox>]>([open(s), open(s), open(s)]);
      const PER_NODE = 1500;
      const WAVE = 50;

      let writing = true;
      // Reader 1: follows the stream the way a reconnecting client does.
      const followed: number[] = [];
      // Reader 2: rereads everything; each snapshot must extend the previous one, never insert below its end.
      const violations: string[] = [];
      let snapshots = 0;
      const poll = async () => {
        let previous: number[] = [];
        while (writing) {
          const after = followed.at(-1) ?? 0;
          const [step, all] = await Promise.all([reader.since('alice', after, 100_000), reader.since('alice', 0, 100_000)]);
          followed.push(...step.items.map((i) => i.seq));
          const seqs = all.items.map((i) => i.seq);
          const prefixHolds = previous.every((seq, i) => seqs[i] === seq);
          if (!prefixHolds) violations.push(`snapshot ${snapshots}: [..${previous.slice(-3).join(',')}] then [..${seqs.slice(-5).join(',')}]`);
          previous = seqs;
          snapshots++;
        }
      };
      const write = async (node: PostgresInbox, tag: string) => {
        const seqs: number[] = [];
        for (let w = 0; w < PER_NODE / WAVE; w++) {
          const wave = await Promise.all(
            Array.from({ length: WAVE }, (_, i) =>
              node.append({ ...input(), id: `${tag}-${w}-${i}`, userIds: i % 3 === 0 ? ['alice', 'bob'] : ['alice'] }),
            ),
          );
          seqs.push(...wave.map((r) => storedOf(r).seq));
        }
        return seqs;
      };

      const polling = poll();
      const [seqsA, seqsB] = await Promise.all([write(nodeA, 'a'), write(nodeB, 'b')]);
      writing = false;
      await polling;

      // Each node's appends got strictly increasing seqs, and no seq was given twice.
      for (const seqs of [seqsA, seqsB]) for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? Infinity);
      const all = [...seqsA, ...seqsB].sort((x, y) => x - y);
      expect(new Set(all).size).toBe(2 * PER_NODE);

      expect(violations).toEqual([]);
      expect(snapshots).toBeGreaterThan(5);
      // The follower, which only ever asks for seqs above the last it saw, missed nothing.
      const final = await reader.since('alice', followed.at(-1) ?? 0, 100_000);
      followed.push(...final.items.map((i) => i.seq));
      expect(followed).toEqual(all);
    }, 60_000);

    it('store an idempotency key sent to both nodes at once exactly once', async () => {
      const s = schema();
      const [nodeA, nodeB] = await Promise.all<[Promise<PostgresInbox>, Promise<PostgresInbox>]>([open(s), open(s)]);
      const push = (node: PostgresInbox) =>
        node.append({ ...input(), id: 'once', idempotency: { key: 'once', bodyHash: 'h' } });
      const results = await Promise.all([push(nodeA), push(nodeB), push(nodeA), push(nodeB)]);
      expect(results.filter((r) => r.status === 'stored')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(3);
      expect((await nodeA.since('alice', 0, 10)).items.map((i) => i.id)).toEqual(['once']);
    });

    it('sweep at the same time without failing or deleting too much', async () => {
      const s = schema();
      const opts = { maxPerUser: 50, ttlDays: 30 };
      const [nodeA, nodeB] = await Promise.all<[Promise<PostgresInbox>, Promise<PostgresInbox>]>([open(s, DATABASE_URL, opts), open(s, DATABASE_URL, opts)]);
      await Promise.all(Array.from({ length: 3000 }, (_, i) => (i % 2 ? nodeA : nodeB).append(input({ userIds: ['alice', `u${i % 7}`] }))));
      const now = Date.UTC(2025, 0, 2);
      const [ra, rb] = await Promise.all([nodeA.sweep(now), nodeB.sweep(now)]);
      const [ra2, rb2] = await Promise.all([nodeA.sweep(now), nodeB.sweep(now)]);
      const deleted = [ra, rb, ra2, rb2].reduce((t, r) => t + r.deliveriesDeleted, 0);
      // 3000 for alice and 3000 over u0..u6: each user keeps exactly 50.
      expect(deleted).toBe(6000 - 8 * 50);
      for (const user of ['alice', 'u0', 'u6']) {
        expect((await nodeA.list(user, { limit: 100 })).items).toHaveLength(50);
        expect(await nodeB.summary(user)).toMatchObject({ unread: 50 });
      }
      expect([ra, rb, ra2, rb2].reduce((t, r) => t + r.notificationsDeleted, 0)).toBeGreaterThan(0);
      expect(await integrity(s)).toEqual({ dangling: 0, notifications: expect.any(Number) });
    });
  });

  describe('when the database is unreachable', () => {
    it('fails to open within a few seconds with InboxUnavailableError', async () => {
      const started = Date.now();
      await expect(openPostgresInbox('postgres://postgres@127.0.0.1:1/test', OPTS)).rejects.toBeInstanceOf(
        InboxUnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(FAIL_FAST_MS);
    });

    describe('after it was reachable at boot', () => {
      let proxy: Proxy;
      beforeAll(async () => {
        proxy = await startProxy(new URL(DATABASE_URL));
      });
      afterAll(async () => {
        await proxy.close();
      });
      afterEach(() => proxy.setMode('forward'));

      const expectFastUnavailable = async (call: () => Promise<unknown>) => {
        const started = Date.now();
        const outcome = await call().then(
          () => 'resolved',
          (err: unknown) => err,
        );
        expect(outcome).toBeInstanceOf(InboxUnavailableError);
        expect(Date.now() - started).toBeLessThan(FAIL_FAST_MS);
      };

      it('rejects append and ping quickly when connections are refused, and recovers when it returns', async () => {
        const inbox = await open(schema(), proxy.url);
        storedOf(await inbox.append(input()));
        proxy.setMode('refuse');
        await expectFastUnavailable(() => inbox.ping());
        await expectFastUnavailable(() => inbox.append(input()));
        await expectFastUnavailable(() => inbox.since('alice', 0, 10));
        await expectFastUnavailable(() => inbox.markAllRead('alice'));

        proxy.setMode('forward');
        await expect(inbox.ping()).resolves.toBeUndefined();
        storedOf(await inbox.append(input()));
        expect((await inbox.since('alice', 0, 10)).items).toHaveLength(2);
      });

      it('rejects append and ping quickly when the database accepts connections but never answers', async () => {
        const inbox = await open(schema(), proxy.url);
        storedOf(await inbox.append(input()));
        proxy.setMode('hang');
        // Let the pool notice its cut connections, so these calls wait on new ones that never answer.
        await sleep(100);
        await expectFastUnavailable(() => inbox.ping());
        await expectFastUnavailable(() => inbox.append(input()));

        proxy.setMode('forward');
        await expect(inbox.ping()).resolves.toBeUndefined();
      });

      it('gives up on a connection that goes silent mid-use within the query timeout', async () => {
        const inbox = await open(schema(), proxy.url);
        storedOf(await inbox.append(input()));
        proxy.setMode('stall');
        // Statement timeout 5 s on the server, query timeout 5.5 s in the client.
        const started = Date.now();
        const outcomes = await Promise.all([
          inbox.append(input()).catch((err: unknown) => err),
          inbox.ping().catch((err: unknown) => err),
        ]);
        for (const outcome of outcomes) expect(outcome).toBeInstanceOf(InboxUnavailableError);
        expect(Date.now() - started).toBeLessThan(STALL_FAIL_MS);

        proxy.setMode('forward');
        await expect(inbox.ping()).resolves.toBeUndefined();
        storedOf(await inbox.append(input()));
      });

      it('survives the server dropping its idle connections', async () => {
        const s = schema();
        const inbox = await open(s);
        await Promise.all([inbox.ping(), inbox.ping(), inbox.summary('alice')]);
        const killed = await admin((c) =>
          c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`herald/${s}`]),
        );
        expect(killed.rowCount).toBeGreaterThan(0);
        // The pool notices the broken connections (without crashing the process) and opens new ones.
        await sleep(200);
        await expect(inbox.ping()).resolves.toBeUndefined();
        storedOf(await inbox.append(input()));
      });
    });
  });
});

interface Proxy {
  url: string;
  /**
   * forward: pass bytes through. refuse: cut every connection, open or new.
   * hang: cut the open ones; accept new ones and never answer. stall: keep every
   * connection open but drop what flows through it.
   */
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}
type ProxyMode = 'forward' | 'refuse' | 'hang' | 'stall';

/** A TCP proxy in front of PostgreSQL, to take the database away from a running inbox. */
async function startProxy(target: URL): Promise<Proxy> {
  let mode: ProxyMode = 'forward';
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = net.createServer((client) => {
    track(client);
    if (mode === 'refuse') return void client.destroy();
    if (mode !== 'forward') return;
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    track(upstream);
    // By hand rather than pipe(), so that `stall` can drop bytes on a connection already open.
    client.on('data', (chunk) => void (mode === 'forward' && upstream.write(chunk)));
    upstream.on('data', (chunk) => void (mode === 'forward' && client.write(chunk)));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(target.href);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.href,
    setMode(next) {
      mode = next;
      if (next === 'refuse' || next === 'hang') for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
