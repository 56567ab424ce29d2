import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAX_RECIPIENTS_PER_PUSH } from '../lib/contract';
import { buildSync } from 'esbuild';
import { SERVER_ENTRY, SERVER_NODE_FLAGS } from '../scripts/server-command';
import type { GcCounts } from './lib/gc';
import { AUTH_SECRET, BOOT_TIMEOUT_MS, IPC_TIMEOUT_MS, PUSH_KEY, ROOT, SETTLE_TIMEOUT_MS } from './config';
import { HttpPool, pushHeaders } from './lib/http';
import { pushBody, userId } from './lib/payload';
import { freePort, rssKiB, sleep, spawnNode, TimeoutError, withTimeout, type Spawned } from './lib/proc';
import type { ServerKind } from './lib/results';

/** The servers under test (Herald and the two references) and the helper processes, behind one interface. */

/**
 * The probe (bench/probe.ts) compiled to plain JavaScript, so that Herald's
 * process loads no TypeScript loader, as in production. Built once per run.
 */
let probePath: string | undefined;
function compiledProbe(): string {
  if (probePath) return probePath;
  const out = path.join(ROOT, 'bench', '.probe.mjs');
  buildSync({ entryPoints: [path.join(ROOT, 'bench', 'probe.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external' });
  probePath = out;
  return out;
}

// ---------------------------------------------------------------------------
// Servers under test
// ---------------------------------------------------------------------------
export interface Target {
  kind: ServerKind;
  proc: Spawned;
  port: number;
  clientKind: 'herald' | 'sio' | 'raw';
  dataDir?: string;
  /** One fan-out round to users u0..u(n-1), stamped `t`. */
  round(r: number, n: number, t: number): void;
  mem(): Promise<{ rssKiB: number; heapUsed: number; gc: boolean }>;
  connections(): Promise<number>;
  /** The server process's garbage collections so far (bench/lib/gc.ts). */
  gc(): Promise<GcCounts>;
  /**
   * Waits until the server has no storage work left over from what it accepted
   * (Herald: its inbox merges per-user rows after a push is stored; see
   * docs/architecture.md). A measured run starts settled and settles before its
   * CPU is read, so that work counts for the pushes that caused it.
   */
  settle(): Promise<void>;
  stop(): Promise<void>;
  /** stop(), then delete the server's data directory (Herald's inbox). */
  dispose(): Promise<void>;
}

/** Herald's side of the run: pushes answered 202, failed fan-out pushes, where its data and profiles go. */
export const heraldState = {
  accepted: 0,
  errors: new Map<string, number>(),
  dataParent: tmpdir(),
  /** Set by --profile: Herald runs with --cpu-prof writing here. */
  profileDir: undefined as string | undefined,
  /** Every DATA_DIR made, removed again at exit whatever happened (rmSync with force: no-op if gone). */
  dataDirs: new Set<string>(),
};

/** For the exit handler: removes every Herald data directory this run made. */
export function removeDataDirsSync(): void {
  for (const dir of heraldState.dataDirs) rmSync(dir, { recursive: true, force: true });
  heraldState.dataDirs.clear();
}

async function waitReady(name: string, proc: Spawned, port: number): Promise<void> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  let ready = false;
  while (!ready) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      const why = proc.logs.slice(-2).map((l) => l.trim()).join(' ');
      throw new Error(`${name} exited during boot (${why.slice(0, 300)}):\n${proc.logs.slice(-30).join('\n')}`);
    }
    if (Date.now() > deadline) {
      const last = proc.logs.filter((l) => l.includes('"level":"error"') || l.includes('Error')).at(-1) ?? proc.logs.at(-1) ?? '';
      throw new TimeoutError(`${name} did not become ready in ${BOOT_TIMEOUT_MS / 1000} s (last log line: ${last.slice(0, 300)})\n${proc.logs.slice(-30).join('\n')}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
      ready = res.status === 200;
    } catch {
      // not listening yet
    }
    if (!ready) await sleep(100);
  }
  await withTimeout(proc.hello, IPC_TIMEOUT_MS, `${name} probe`);
}

export interface HeraldOptions {
  /** Process name in logs and errors (default `herald`). */
  name?: string;
  /** Extra environment: the cluster scenario's REDIS_URL, DATABASE_URL, DATABASE_SCHEMA, NODE_ID. */
  env?: Record<string, string>;
  /** Run under --cpu-prof when --profile is on (default true). */
  profile?: boolean;
  /** The compiled server to run (default SERVER_ENTRY, as `npm start`; bench/features.ts passes its builds). */
  entry?: string;
}

/**
 * What every server under test answers over IPC the same way: Herald through
 * bench/probe.ts, the references through bench/servers/common.ts.
 */
function probeQueries(proc: Spawned): Pick<Target, 'mem' | 'connections' | 'gc'> {
  return {
    async mem() {
      const m = await proc.ipc.request<{ mem: NodeJS.MemoryUsage; gc: boolean }>({ op: 'mem' }, 30_000);
      return { rssKiB: rssKiB(proc.pid), heapUsed: m.mem.heapUsed, gc: m.gc };
    },
    async connections() {
      return (await proc.ipc.request<{ connections: number }>({ op: 'count' }, IPC_TIMEOUT_MS)).connections;
    },
    gc: () => proc.ipc.request<GcCounts>({ op: 'gc' }, IPC_TIMEOUT_MS),
  };
}

/** Herald's /readyz with the push key: its checks (connections, the inbox backlog). */
async function readyz(port: number): Promise<{ checks?: { database?: { backlog?: number }; realtime?: { connections?: number } } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { headers: { authorization: `Bearer ${PUSH_KEY}` }, signal: AbortSignal.timeout(2_000) });
  return (await res.json()) as { checks?: { database?: { backlog?: number }; realtime?: { connections?: number } } };
}

export async function startHerald(opts: HeraldOptions = {}): Promise<Target> {
  const name = opts.name ?? 'herald';
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(heraldState.dataParent, 'herald-bench-'));
  heraldState.dataDirs.add(dataDir);
  const profile = (opts.profile ?? true) && heraldState.profileDir;
  // Herald runs as `npm start` runs it, compiled and with its node options; the harness adds
  // --expose-gc (the probe's heap figures after a full GC), the probe, and with --profile, --cpu-prof.
  const proc = spawnNode(name, opts.entry ?? SERVER_ENTRY, {
    cwd: ROOT,
    nodeArgs: [...SERVER_NODE_FLAGS, '--expose-gc', ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${heraldState.profileDir}`] : [])],
    imports: [compiledProbe()],
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_FORMAT: 'json',
      AUTH_SECRET,
      PUSH_API_KEY: PUSH_KEY,
      NEXT_TELEMETRY_DISABLED: '1',
      // Retention would otherwise run in the middle of some runs and not others.
      INBOX_SWEEP_INTERVAL_MS: String(24 * 60 * 60 * 1000),
      // Every simulated user connects from 127.0.0.1 and the load generator uses one key:
      // lift the per-address connection cap and the per-key push rate limit (capacity is
      // measured here, not abuse protection). Ignored by a Herald without these settings.
      MAX_CONNECTIONS_PER_IP: '1000000',
      // The load generators open thousands of sockets from a few addresses: no handshake rate limits.
      HANDSHAKE_RATE_PER_IP: '0',
      HANDSHAKE_RATE_PER_USER: '0',
      PUSH_RATE_LIMIT: '0',
      ...opts.env,
    },
  });
  try {
    await waitReady(name, proc, port);
  } catch (err) {
    // Nothing of a node that did not come up may outlive the attempt (its data, a lingering group).
    await proc.stop(1000);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const pool = new HttpPool('127.0.0.1', port, 64);
  const headers = pushHeaders(PUSH_KEY);
  const chunks = new Map<number, string[]>();
  const chunksOf = (n: number): string[] => {
    let c = chunks.get(n);
    if (!c) {
      c = [];
      for (let from = 0; from < n; from += MAX_RECIPIENTS_PER_PUSH) {
        const ids: string[] = [];
        for (let i = from; i < Math.min(n, from + MAX_RECIPIENTS_PER_PUSH); i++) ids.push(userId(i));
        c.push(JSON.stringify(ids));
      }
      chunks.set(n, c);
    }
    return c;
  };
  return {
    kind: 'herald',
    proc,
    port,
    clientKind: 'herald',
    dataDir,
    round(r, n, t) {
      for (const tokens of chunksOf(n)) {
        pool.request('POST', '/api/push', headers, pushBody(tokens, r, t)).then(
          (a) => {
            if (a.status === 202) heraldState.accepted++;
            else countError(`HTTP ${a.status} ${a.body.slice(0, 100)}`);
          },
          (err: unknown) => countError((err as Error).message),
        );
      }
    },
    ...probeQueries(proc),
    async connections() {
      return (await readyz(port)).checks?.realtime?.connections ?? -1;
    },
    async settle() {
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      for (;;) {
        const backlog = (await readyz(port)).checks?.database?.backlog ?? 0;
        if (backlog === 0) return;
        if (Date.now() > deadline) throw new TimeoutError(`${name}: inbox backlog still ${backlog} after ${SETTLE_TIMEOUT_MS / 1000} s`);
        await sleep(20);
      }
    },
    async stop() {
      pool.close();
      await proc.stop(15_000);
    },
    async dispose() {
      pool.close();
      await proc.stop(15_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function countError(key: string): void {
  heraldState.errors.set(key, (heraldState.errors.get(key) ?? 0) + 1);
}

export async function startReference(kind: 'bare' | 'raw' | 'rawc'): Promise<Target> {
  const script = kind === 'bare' ? 'bench/servers/bare-socketio.ts' : 'bench/servers/raw-ws.ts';
  const proc = spawnNode(kind === 'bare' ? 'bare-socketio' : kind === 'raw' ? 'raw-ws' : 'raw-ws-coalescing', script, {
    cwd: ROOT,
    nodeArgs: ['--expose-gc'],
    env: { PORT: '0', NODE_ENV: 'production', ...(kind === 'rawc' ? { COALESCE: '1' } : {}) },
  });
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      const off = proc.ipc.onEvent((m) => {
        if (m.type === 'ready') {
          off();
          resolve(Number(m.port));
        }
      });
      void proc.exited.then((code) => reject(new Error(`${kind} exited (${code}):\n${proc.logs.join('\n')}`)));
    }),
    BOOT_TIMEOUT_MS,
    `${kind} server boot`,
  );
  return {
    kind,
    proc,
    port,
    clientKind: kind === 'bare' ? 'sio' : 'raw',
    round(r, _n, t) {
      proc.ipc.send({ op: 'emit', r, t });
    },
    ...probeQueries(proc),
    // Nothing deferred: a reference has no storage.
    async settle() {},
    async stop() {
      await proc.stop(5_000);
    },
    async dispose() {
      await proc.stop(5_000);
    },
  };
}

export const startTarget = (kind: ServerKind): Promise<Target> => (kind === 'herald' ? startHerald() : startReference(kind));

export async function startHelper(name: string, script: string): Promise<Spawned> {
  const proc = spawnNode(name, script, { cwd: ROOT, env: { NODE_ENV: 'production' } });
  await withTimeout(proc.hello, BOOT_TIMEOUT_MS, `${name} start`);
  return proc;
}

