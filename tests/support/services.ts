import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';

/**
 * The real services the cluster tests run against, each private to a test so
 * tests never share state and never touch the machine's shared Redis or
 * PostgreSQL data:
 * - a private `redis-server` on a free port (no persistence), which a test may
 *   stop and start again on the same port;
 * - a fresh, randomly named PostgreSQL schema, dropped afterwards;
 * - a TCP proxy in front of PostgreSQL, which a test can cut to make the
 *   database "go away" for a running node.
 * Nothing here skips: a missing service is an error with a clear message.
 */

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_START_TIMEOUT_MS = 10_000;
const PG_CONNECT_TIMEOUT_MS = 5_000;

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** One Redis command over a fresh connection (inline protocol); resolves the first reply line. */
export function redisCommand(port: number, command: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`redis ${command}: no answer in ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      const nl = reply.indexOf('\r\n');
      if (nl >= 0) {
        socket.end();
        resolve(reply.slice(0, nl));
      }
    });
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Whether the redis-server process is running. */
  running(): boolean;
  /** Ends the server at once (SIGKILL: nothing to save, no clean goodbye to clients). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty, and waits until it answers PING. */
  start(): Promise<void>;
  /** SIGSTOP: the connections stay open and nothing answers (a frozen host). */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  /** Last lines redis-server printed (for failure messages). */
  logs: string[];
}

/**
 * Starts a private `redis-server --port <free> --save '' --appendonly no` and
 * waits for PING. Fails with a clear message if redis-server is not installed.
 */
export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const keep = (chunk: Buffer) => {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      logs.splice(0, Math.max(0, logs.length - 50));
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const spawnError = new Promise<never>((_, reject) =>
      proc.once('error', (err) =>
        reject(new Error(`cannot start redis-server (${err.message}): these tests need the redis-server binary on PATH`)),
      ),
    );
    spawnError.catch(() => undefined);
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
    for (;;) {
      const pong = await Promise.race([redisCommand(port, 'PING', 500).catch(() => ''), spawnError]);
      if (pong === '+PONG') return;
      if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}) on port ${port}:\n${logs.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}:\n${logs.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await exited;
  };

  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    running: () => !!child && child.exitCode === null && child.signalCode === null,
    stop,
    start,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    logs,
  };
}

/** A short-lived admin connection to the test database. */
export async function withDatabase<T>(fn: (client: pg.Client) => Promise<T>, url = TEST_DATABASE_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is unreachable at ${url} (${(err as Error).message}). These tests need it: start it, or point TEST_DATABASE_URL at one.`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestSchema {
  /** The schema name, for DATABASE_SCHEMA. */
  name: string;
  databaseUrl: string;
  /** DROP SCHEMA … CASCADE. */
  drop(): Promise<void>;
}

/**
 * A fresh random schema name on the test database. The schema itself is not
 * created (Herald's migrations create it), so nodes boot against an empty one;
 * the database is checked reachable now, so a missing PostgreSQL fails here.
 */
export async function freshSchema(prefix = 'herald_cluster'): Promise<TestSchema> {
  await withDatabase((c) => c.query('SELECT 1'));
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  return {
    name,
    databaseUrl: TEST_DATABASE_URL,
    drop: () => withDatabase((c) => c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)).then(() => undefined),
  };
}

export interface TcpProxy {
  port: number;
  /** The target's URL with host and port replaced by the proxy's. */
  urlFor(url: string): string;
  /** Client connections currently open through the proxy (piped, held or frozen). */
  connections(): number;
  /**
   * From now on, new connections are accepted and kept waiting (their bytes
   * buffered, nothing sent upstream) until `restore()`.
   */
  hold(): void;
  /** Connections accepted while holding, still waiting. */
  held(): number;
  /**
   * The service "goes away" (it crashed, or its host is gone): open connections
   * are reset and new ones refused.
   */
  cut(): Promise<void>;
  /**
   * The network "goes silent" (a partition): open connections stay open but
   * nothing passes either way, and new connections are accepted but never
   * answered.
   */
  freeze(): void;
  /**
   * Back to normal: held connections go through; cut or frozen ones are
   * dropped; new ones are piped again (same port).
   */
  restore(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream?: net.Socket;
  held?: boolean;
}

/** A TCP proxy on 127.0.0.1 (free port) piping every connection to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'open' | 'held' | 'frozen' | 'cut' = 'open';
  const pairs = new Set<Pair>();
  const drop = (pair: Pair) => {
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };
  const connectUpstream = (pair: Pair) => {
    pair.held = false;
    const upstream = net.connect(target);
    pair.upstream = upstream;
    upstream.on('error', () => drop(pair));
    upstream.on('close', () => drop(pair));
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
    pair.client.resume();
  };
  const server = net.createServer((client) => {
    const pair: Pair = { client };
    pairs.add(pair);
    client.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    if (mode === 'open') connectUpstream(pair);
    else if (mode === 'held') {
      pair.held = true;
      client.pause();
    }
    // frozen: accepted, never answered
  });
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen();
  port = (server.address() as net.AddressInfo).port;

  const dropAll = (keep: (pair: Pair) => boolean = () => false) => {
    for (const pair of [...pairs]) {
      if (keep(pair)) continue;
      pair.client.resetAndDestroy();
      pair.upstream?.resetAndDestroy();
      pairs.delete(pair);
    }
  };
  const stopListening = () =>
    server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();

  return {
    port,
    urlFor(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    connections: () => pairs.size,
    hold() {
      mode = 'held';
    },
    held: () => [...pairs].filter((p) => p.held).length,
    async cut() {
      mode = 'cut';
      dropAll();
      await stopListening();
    },
    freeze() {
      mode = 'frozen';
      for (const { client, upstream } of pairs) {
        if (!upstream) continue;
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async restore() {
      const wasFrozen = mode === 'frozen' || mode === 'cut';
      mode = 'open';
      // Held connections were only waiting: they go through. Frozen or cut ones are beyond saving.
      dropAll((pair) => !wasFrozen && (pair.held === true || pair.upstream !== undefined));
      for (const pair of pairs) if (pair.held) connectUpstream(pair);
      if (!server.listening) await listen();
    },
    async close() {
      mode = 'cut';
      dropAll();
      await stopListening();
    },
  };
}
