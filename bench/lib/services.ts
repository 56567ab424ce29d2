import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';
import { redisCommand } from '../../tests/support/services';
import { freePort, sleep, spawnCommand, type SpawnedCommand } from './proc';

/**
 * The services of the cluster scenario, private to one run so the benchmark never
 * touches anyone else's data:
 *
 * - a private `redis-server --port <free> --save '' --appendonly no`, started under
 *   a watchdog shell in a process group of its own (killed with the other children
 *   on exit, error or signal);
 * - fresh, randomly named PostgreSQL schemas (`herald_bench_<hex>`), each
 *   remembered from the moment its name is chosen and dropped (`DROP SCHEMA …
 *   CASCADE`) when the scenario ends, or, failing that, synchronously from the
 *   orchestrator's exit handler (error, Ctrl-C).
 *
 * If the orchestrator itself is killed outright (SIGKILL: no handler runs), the
 * watchdog notices within half a second, kills redis-server and drops the
 * schemas it was given.
 */

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_START_TIMEOUT_MS = 10_000;
const PG_CONNECT_TIMEOUT_MS = 5_000;
/** A DROP waits this long at most for a lock (a killed node's session may take a moment to end). */
const DROP_LOCK_TIMEOUT = '10s';

// ---------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------
export interface PrivateRedis {
  url: string;
  port: number;
  /** redis-server's own pid (for CPU accounting; the group is the watchdog shell's). */
  pid: number;
  proc: SpawnedCommand;
  stop(): Promise<void>;
}

/** Whether anything accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const WATCHDOG = [
  'redis-server "$@" & r=$!',
  'echo "redis-pid $r"',
  // Ends with the orchestrator (whose pid is ORCHESTRATOR), or as soon as redis-server does.
  'while kill -0 "$r" 2>/dev/null && kill -0 "$ORCHESTRATOR" 2>/dev/null; do sleep 0.5; done',
  'kill -9 "$r" 2>/dev/null',
  // Orphaned (the orchestrator was killed outright): nobody else will drop the schemas.
  'if ! kill -0 "$ORCHESTRATOR" 2>/dev/null && [ -n "$NAMES" ]; then "$NODE" -e "$DROP_SCRIPT"; fi',
].join('\n');

/**
 * Starts the private redis-server. `orphanSchemas`: schemas the watchdog drops if
 * the orchestrator dies without cleaning up (reserve their names first).
 */
export async function startPrivateRedis(cwd: string, orphanSchemas: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const proc = spawnCommand(
    'redis-server',
    'bash',
    ['-c', WATCHDOG, 'redis-watchdog', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    {
      cwd,
      env: {
        ORCHESTRATOR: String(process.pid),
        NODE: process.execPath,
        DROP_SCRIPT,
        URL: BENCH_DATABASE_URL,
        NAMES: orphanSchemas.length > 0 ? JSON.stringify(orphanSchemas) : '',
      },
    },
  );
  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  try {
    for (;;) {
      const pong = await redisCommand(port, 'PING', 500).catch(() => '');
      const pidLine = proc.logs.find((l) => l.startsWith('redis-pid '));
      if (pong === '+PONG' && pidLine) {
        const pid = Number(pidLine.slice('redis-pid '.length));
        return { url: `redis://127.0.0.1:${port}`, port, pid, proc, stop: () => proc.stop() };
      }
      if (proc.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `private redis-server did not answer PING on port ${port} within ${REDIS_START_TIMEOUT_MS / 1000} s ` +
            `(is redis-server installed?):\n${proc.logs.slice(-20).join('\n')}`,
        );
      }
      await sleep(50);
    }
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------
// PostgreSQL schemas
// ---------------------------------------------------------------------------
/** Schemas named (and perhaps created) and not yet dropped. */
const liveSchemas = new Set<string>();
/** Every schema this run created, for the report and the smoke test. */
export const createdSchemas: string[] = [];

async function withDatabase<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is unreachable at ${BENCH_DATABASE_URL} (${(err as Error).message}); set BENCH_DATABASE_URL to point at one`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Names a fresh schema and remembers it for dropping (from here on, whether or not it gets created). */
export function reserveSchema(): string {
  const name = `herald_bench_${randomBytes(6).toString('hex')}`;
  liveSchemas.add(name);
  return name;
}

/** Creates a reserved schema (empty: Herald's migrations fill it at boot). */
export async function createSchema(name: string): Promise<void> {
  try {
    await withDatabase((c) => c.query(`CREATE SCHEMA ${name}`));
  } catch (err) {
    // Not created (unreachable database): nothing to drop. Should it exist after all, it is not ours.
    liveSchemas.delete(name);
    throw err;
  }
  createdSchemas.push(name);
}

export async function dropSchema(name: string): Promise<void> {
  if (!liveSchemas.has(name)) return;
  await withDatabase(async (c) => {
    await c.query(`SET lock_timeout = '${DROP_LOCK_TIMEOUT}'`);
    await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  });
  liveSchemas.delete(name);
}

/** Which of these schemas exist in the database now. */
export async function existingSchemas(names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  return withDatabase(async (c) => {
    const r = await c.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])', [names]);
    return r.rows.map((row) => row.nspname).sort();
  });
}

/** Counts rows of a table in a schema. */
export function countRows(schema: string, table: string): Promise<number> {
  return withDatabase(async (c) => {
    const r = await c.query<{ n: string }>(`SELECT COUNT(*)::text AS n FROM ${schema}.${table}`);
    return Number(r.rows[0]?.n ?? NaN);
  });
}

/** `node -e` script (CommonJS, run with cwd = the repository): drops the schemas named in $NAMES from $URL. */
const DROP_SCRIPT = `
  const pg = require('pg');
  const c = new pg.Client({ connectionString: process.env.URL, connectionTimeoutMillis: ${PG_CONNECT_TIMEOUT_MS} });
  (async () => {
    await c.connect();
    await c.query("SET lock_timeout = '${DROP_LOCK_TIMEOUT}'");
    for (const n of JSON.parse(process.env.NAMES)) {
      if (/^herald_bench_[0-9a-f]+$/.test(n)) await c.query('DROP SCHEMA IF EXISTS ' + n + ' CASCADE');
    }
    await c.end();
  })().catch((e) => { console.error(e.message); process.exit(1); });
`;

/**
 * For the exit handler (synchronous): drops every schema still remembered, from a
 * short-lived `node -e` with `pg`. Run after the children are killed, so no Herald
 * node holds a lock for long.
 */
export function dropSchemasSync(cwd: string): void {
  if (liveSchemas.size === 0) return;
  const names = [...liveSchemas];
  const r = spawnSync(process.execPath, ['-e', DROP_SCRIPT], {
    cwd,
    env: { PATH: process.env.PATH, URL: BENCH_DATABASE_URL, NAMES: JSON.stringify(names) } as unknown as NodeJS.ProcessEnv,
    timeout: 20_000,
    encoding: 'utf8',
  });
  if (r.status === 0) {
    liveSchemas.clear();
    console.error(`dropped the benchmark's PostgreSQL schema(s): ${names.join(', ')}`);
  } else {
    console.error(`could not drop the benchmark's PostgreSQL schema(s) ${names.join(', ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  }
}
