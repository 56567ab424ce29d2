import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliveInGroups } from './lib/proc';
import type { BenchResults } from './lib/results';
import { existingSchemas } from './lib/services';

/**
 * A smoke run of the benchmark harness (tiny N, one run, seconds): it must keep
 * working, deliver everything it sends, write its three outputs and leave no
 * process behind. Speed is not asserted here; `npm run bench` measures it.
 * The cluster, features and scale scenarios run too (a few users and pushes): they need redis-server
 * on PATH and PostgreSQL at postgres://postgres@127.0.0.1:5432/test (or
 * BENCH_DATABASE_URL), and must leave neither their redis-servers nor their schemas.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SMOKE_TIMEOUT_MS = 300_000;

let outDir: string;
let exitCode: number | null;
let output = '';
let results: BenchResults;
let harnessPid: number | undefined;

beforeAll(async () => {
  outDir = mkdtempSync(path.join(tmpdir(), 'herald-bench-smoke-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--prebuilt', '--out', outDir], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      ...(process.env.BENCH_DATABASE_URL ? { BENCH_DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  harnessPid = child.pid;
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  exitCode = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGINT'), SMOKE_TIMEOUT_MS - 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const file = path.join(outDir, 'latest.json');
  if (existsSync(file)) results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
}, SMOKE_TIMEOUT_MS);

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe('the benchmark harness, smoke run', () => {
  it('finishes and writes the JSON, the Markdown tables and the chart', () => {
    expect(exitCode, output).toBe(0);
    expect(results, output).toBeDefined();
    expect(results.mode).toBe('smoke');
    const md = readFileSync(path.join(outDir, 'latest.md'), 'utf8');
    expect(md).toContain('| Herald | bare socket.io | raw ws | raw ws, coalescing | Herald/bare | Herald/raw | Herald/raw-c |');
    expect(md).toContain('| `cluster` | cluster: 2 nodes + Redis | one node, no Redis | one node, SQLite (ref.) | cluster / one node |');
    expect(md).not.toContain('multi-node mode not built yet');
    expect(readFileSync(path.join(outDir, 'latency.svg'), 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
  });

  it('runs every scenario against Herald and the three references', () => {
    const names = Object.keys(results.scenarios);
    expect(names.filter((n) => n.startsWith('fanout-'))).toHaveLength(2);
    expect(names).toEqual(expect.arrayContaining(['targeted', 'recipients-100', 'connections', 'catchup', 'cluster', 'features', 'scale']));
    expect(results.scenarios.cluster?.notMeasured, output).toBeUndefined();
    for (const name of names.filter((n) => !['cluster', 'tabs', 'features', 'scale'].includes(n))) {
      // The coalescing raw ws reference holds sockets as raw ws does: it skips the connections scenario.
      for (const kind of name === 'connections' ? (['herald', 'bare', 'raw'] as const) : (['herald', 'bare', 'raw', 'rawc'] as const)) {
        expect(results.scenarios[name]?.servers[kind], `${name}/${kind}`).toBeDefined();
      }
    }
  });

  it('delivers every message it sends, on every server, with no errors', () => {
    for (const name of ['targeted', 'recipients-100', ...Object.keys(results.scenarios).filter((n) => n.startsWith('fanout-'))]) {
      for (const kind of ['herald', 'bare', 'raw', 'rawc'] as const) {
        const r = results.scenarios[name]?.servers[kind];
        expect(r?.errors, `${name}/${kind}`).toEqual([]);
        expect(r?.delivered, `${name}/${kind}`).toBeGreaterThan(0);
        expect(r?.lost, `${name}/${kind}`).toBe(0);
        expect(r?.delivered, `${name}/${kind}`).toBe(r?.expected);
      }
    }
    const fanout = Object.entries(results.scenarios).find(([n]) => n.startsWith('fanout-'))?.[1];
    expect(fanout?.servers.herald?.metrics.deliveriesPerSec?.median).toBeGreaterThan(0);
    expect(fanout?.servers.herald?.metrics.serverUsPerDelivery?.median).toBeGreaterThan(0);
    expect(fanout?.servers.herald?.metrics.p99Ms?.median).toBeGreaterThan(0);
    expect(results.scenarios.targeted?.servers.herald?.metrics.idleP99Ms?.median).toBeGreaterThan(0);
    // The storage floor beside Herald's data, and the goals that name it.
    const commitP99 = results.scenarios.targeted?.servers.herald?.metrics.commitP99Ms;
    expect(commitP99?.runs.length).toBeGreaterThan(0);
    expect(commitP99?.median).toBeGreaterThan(0);
    expect(results.goals.find((g) => g.goal === 'idle single push p99')?.bound).toMatch(/lone one-row commit .* p99 \d/);
    // The busy-core imitation: the same runs with `yes > /dev/null` beside them, judged against the quiet ones.
    expect(results.scenarios.targeted?.servers.herald?.metrics.busyAcceptedPerSec?.median).toBeGreaterThan(0);
    expect(results.scenarios.targeted?.servers.herald?.metrics.busyP99Ms?.median).toBeGreaterThan(0);
    expect(results.goals.find((g) => /busy process/.test(g.goal))?.measured).toMatch(/^[\d,]+\/s against [\d,]+\/s: \d+\.\d\d×; p99 at the busy half rate/);
    // The server's peak RSS over the targeted scenario (VmHWM, started over when the scenario starts).
    expect(results.scenarios.targeted?.servers.herald?.metrics.peakRssMiB?.median).toBeGreaterThan(0);
    // Major GCs counted in Herald's process for each half-rate run, and named beside that run's p99.
    const gcs = results.scenarios.targeted?.servers.herald?.metrics.halfRateMajorGcs;
    expect(gcs?.runs.length).toBe(results.scenarios.targeted?.servers.herald?.metrics.p99Ms?.runs.length);
    for (const n of gcs?.runs ?? []) expect(Number.isInteger(n) && n >= 0).toBe(true);
    expect(results.goals.find((g) => g.goal === 'push-to-receive p99 at half that rate')?.bound).toMatch(/during the run: [\d.]+ ms \(\d+\)/);
    expect(results.scenarios.targeted?.servers.herald?.notes.join(' ')).toMatch(/stored: (\d[\d,]*) notifications in the inbox after shutdown for \1 pushes/);
  });

  it('replays a returning user\u2019s missed notifications in full', () => {
    const catchup = results.scenarios.catchup?.servers.herald;
    expect(catchup?.errors).toEqual([]);
    expect(catchup?.delivered).toBe(results.config.catchupMissed);
    expect(catchup?.metrics.lastMs?.median).toBeGreaterThan(0);
  });

  it('holds its sockets without disconnects', () => {
    for (const kind of ['herald', 'bare', 'raw'] as const) {
      const r = results.scenarios.connections?.servers[kind];
      expect(r?.errors, kind).toEqual([]);
      expect(r?.metrics.sockets?.median, kind).toBe(results.config.connections);
      expect(r?.metrics.disconnects?.median, kind).toBe(0);
      expect(r?.metrics.rssPerSocketKiB?.runs.length, kind).toBe(1);
    }
  });

  it('delivers pushes sent to node A on node B through Redis, and on one node, with nothing lost', () => {
    const cluster = results.scenarios.cluster;
    const users = results.config.fanoutSizes as number[];
    for (const key of ['cluster', 'one'] as const) {
      const r = cluster?.variants?.[key];
      expect(r?.errors, key).toEqual([]);
      expect(r?.delivered, key).toBeGreaterThan(0);
      expect(r?.lost, key).toBe(0);
      expect(r?.delivered, key).toBe(r?.expected);
      expect(r?.metrics.r100DeliveriesPerSec?.median, key).toBeGreaterThan(0);
      expect(r?.metrics.tAcceptedPerSec?.median, key).toBeGreaterThan(0);
      expect(r?.metrics.p99Ms?.median, key).toBeGreaterThan(0);
      // Every push answered 202 is in PostgreSQL.
      expect(r?.notes.join(' '), key).toMatch(/stored: (\d[\d,]*) notifications in PostgreSQL \(schema herald_bench_[0-9a-f]+\) for \1 pushes answered 202/);
    }
    // Every simulated user sat on node B, none on node A: each delivery crossed Redis.
    expect(cluster?.variants?.cluster?.notes).toContain(`sockets at the start: node A 0, node B ${users[0]} (every delivery crossed Redis from A to B)`);
    expect(cluster?.variants?.sqlite?.metrics.r100DeliveriesPerSec?.median).toBeGreaterThan(0);
  });

  it('measures receipts, webhooks, metrics and the slow-consumer guard on and off, with nothing lost', () => {
    const features = results.scenarios.features;
    expect(features?.notMeasured, output).toBeUndefined();
    for (const key of ['shipped', 'receipts', 'webhooks', 'noMetrics', 'noGuard']) {
      const r = features?.variants?.[key];
      expect(r?.errors, key).toEqual([]);
      expect(r?.lost, key).toBe(0);
      expect(r?.delivered, key).toBeGreaterThan(0);
      expect(r?.delivered, key).toBe(r?.expected);
      expect(r?.metrics.acceptedPerSec?.median, key).toBeGreaterThan(0);
      expect(r?.metrics.usPerNotification?.median, key).toBeGreaterThan(0);
    }
    for (const key of ['shipped', 'noGuard']) expect(features?.variants?.[key]?.metrics.fanoutUsPerDelivery?.median, key).toBeGreaterThan(0);
    // The collapse comparison's pair, plain and collapsing pushes at one rate.
    for (const metric of ['usPerPlainAtRate', 'usPerCollapsingAtRate']) expect(features?.variants?.shipped?.metrics[metric]?.median, metric).toBeGreaterThan(0);
    // The users' receipts reached the harness's receiver as webhook events.
    expect(features?.variants?.webhooks?.metrics.webhookEventsPerSec?.median).toBeGreaterThan(0);
    for (const name of [/webhooks on/, /metrics on/, /slow-consumer guard/, /a collapsing push/]) {
      const g = results.goals.find((x) => name.test(x.goal));
      expect(typeof g?.met, g?.goal).toBe('boolean');
    }
  });

  it('holds the scale scenario\u2019s sockets over several nodes and client processes, and fans out to all of them', () => {
    const scale = results.scenarios.scale;
    expect(scale?.notMeasured, output).toBeUndefined();
    const all = scale?.variants?.all;
    expect(all?.errors).toEqual([]);
    expect(all?.lost).toBe(0);
    expect(all?.delivered).toBeGreaterThan(0);
    expect(all?.delivered).toBe(all?.expected);
    expect(all?.metrics.sockets?.median).toBe(results.config.scaleSockets);
    expect(all?.metrics.disconnects?.median).toBe(0);
    expect(all?.metrics.connectPerSec?.median).toBeGreaterThan(0);
    expect(all?.metrics.fanoutMs?.runs.length).toBe(results.config.runs);
    const nodes = Object.keys(scale?.variants ?? {}).filter((k) => k.startsWith('node-'));
    expect(nodes).toHaveLength(results.config.scaleNodes as number);
    const perNode = nodes.map((k) => scale?.variants?.[k]?.metrics.sockets?.median ?? 0);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(results.config.scaleSockets);
    for (const n of perNode) expect(n).toBeGreaterThan(0);
    expect(all?.notes.join(' ')).toMatch(/stored: (\d[\d,]*) notifications in PostgreSQL \(schema herald_bench_[0-9a-f]+\) for \1 pushes answered 202/);
    expect(results.goals.find((g) => /sockets of as many users/.test(g.goal))?.untestable).toMatch(/^a smaller run/);
  });

  it('records how much CPU the hypervisor took, for the run and per scenario', () => {
    expect(results.machine.stealShare).toBeGreaterThanOrEqual(0);
    expect(results.machine.stealShare).toBeLessThanOrEqual(1);
    const variants = results.scenarios.cluster?.variants;
    for (const stolen of [
      results.scenarios.targeted?.servers.herald?.metrics.stolenCores,
      variants?.cluster?.metrics.r100StolenCores,
      variants?.one?.metrics.tStolenCores,
    ]) {
      expect(stolen?.runs.length).toBeGreaterThan(0);
      for (const v of stolen?.runs ?? []) expect(v).toBeGreaterThanOrEqual(0);
    }
  });

  it('marks each goal met, not met or not measured', () => {
    expect(results.goals.length).toBeGreaterThanOrEqual(10);
    for (const g of results.goals) expect([true, false, null]).toContain(g.met);
    const redis = results.goals.find((g) => /Redis/.test(g.goal));
    expect(typeof redis?.met, redis?.measured).toBe('boolean');
    expect(redis?.measured).toMatch(/^\d+\.\d\d× \(cluster [\d,]+, one node [\d,]+ deliveries\/s\), 0 lost$/);
  });

  it('stops its private redis-servers and drops its PostgreSQL schemas', async () => {
    // One each for the cluster and the scale scenarios.
    const redis = results.processes.redis ?? [];
    expect(redis).toHaveLength(2);
    for (const { pid, port } of redis) {
      expect(pid).toBeGreaterThan(0);
      expect(isRunning(pid), `redis-server pid ${pid}`).toBe(false);
      // No redis-server at all on that port (it names itself "redis-server 127.0.0.1:<port>").
      expect(processesNamed(`redis-server 127.0.0.1:${port}`)).toEqual([]);
    }
    expect(results.schemas?.created).toHaveLength(3);
    expect(results.schemas?.leftBehind).toEqual([]);
    // Checked again from outside, after the harness has exited.
    expect(await existingSchemas(results.schemas?.created ?? [])).toEqual([]);
  });

  it('leaves no process behind', () => {
    expect(results.processes.groups.length).toBeGreaterThanOrEqual(8);
    expect(results.processes.leftAlive).toEqual([]);
    // Checked again from outside, after the harness itself has exited.
    expect(aliveInGroups(results.processes.groups)).toEqual([]);
    expect(harnessPid).toBeDefined();
    expect(existsSync(`/proc/${String(harnessPid)}`)).toBe(false);
  });
});

/** Alive (not a zombie). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Live processes whose command line is `name`, or `name` followed by arguments. */
function processesNamed(name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if ((cmd === name || cmd.startsWith(`${name} `)) && isRunning(Number(entry))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
