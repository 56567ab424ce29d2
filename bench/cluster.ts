import { ROOT, type Profile } from './config';
import { fmt, log } from './lib/log';
import type { Spawned } from './lib/proc';
import { emptyServerResult, median, RunCollector, type RowSpec, type ScenarioResult, type ServerResult } from './lib/results';
import { BENCH_DATABASE_URL, countRows, createSchema, dropSchema, reserveSchema, startPrivateRedis, type PrivateRedis } from './lib/services';
import { connectUsers, load, stats, tally, warmUp, type Ctx, type LoadRun, type LoadSpec } from './scenarios';
import { startHelper, startHerald, type Target } from './targets';

/**
 * The cluster scenario: what the Redis adapter costs.
 *
 * Two Herald nodes (production mode, the harness's usual env) share a private
 * redis-server and a fresh PostgreSQL schema. Every simulated user is connected
 * to node B; every push goes over HTTP to node A, so each delivery crosses Redis.
 * Against it, in the same run and at the same load: ONE node on the same
 * PostgreSQL (a schema of its own) with no Redis, its users connected to it. The
 * two setups differ only by the Redis adapter (and the second process), so
 * "cluster / one node" isolates what the adapter costs.
 *
 * All three Herald processes stay up for the whole scenario and the runs
 * alternate between the setups (one, cluster, then cluster, one, …), so slow
 * drifts of the machine's other load fall on both alike. One simulated-user
 * process holds the users of both setups (the same user ids; the setups share
 * nothing, so a push to one never reaches the other's sockets) and one load
 * generator drives both, one setup at a time.
 *
 * Measured per setup: (a) 100-recipient pushes in a closed loop, deliveries/s;
 * (b) a stream of 1–3-recipient pushes in a closed loop, notifications/s
 * accepted; then an open loop at the same rate for both (half the lower of the
 * two saturation medians), push-to-receive p50/p99. Server CPU per delivery sums
 * every Herald process of the setup and, for the cluster, redis-server
 * (PostgreSQL's backends are shared with the rest of the machine and not counted).
 */

type VariantKey = 'cluster' | 'one';

export const CLUSTER_COLUMNS: ScenarioResult['columns'] = [
  { key: 'cluster', label: 'cluster: 2 nodes + Redis' },
  { key: 'one', label: 'one node, no Redis' },
  { key: 'sqlite', label: 'one node, SQLite (ref.)' },
];
export const CLUSTER_RATIOS: ScenarioResult['ratios'] = [{ label: 'cluster / one node', num: 'cluster', den: 'one' }];

export const CLUSTER_ROWS: RowSpec[] = [
  { key: 'r100DeliveriesPerSec', label: '100-recipient pushes: deliveries/s at saturation', better: 'higher' },
  { key: 'r100PushesPerSec', label: '100-recipient pushes: pushes/s', better: 'higher' },
  { key: 'r100UsPerDelivery', label: '100-recipient pushes: server CPU per delivery (every Herald node + redis-server)', better: 'lower' },
  { key: 'r100PushNodeCores', label: '100-recipient pushes: CPU of the node taking the pushes (A / the one node)', better: 'none' },
  { key: 'r100DeliverNodeCores', label: '100-recipient pushes: CPU of the node holding the users (B)', better: 'none' },
  { key: 'r100RedisCores', label: '100-recipient pushes: redis-server CPU', better: 'none' },
  { key: 'r100PushNodeWait', label: '100-recipient pushes: push node main thread runnable, waiting for a CPU', better: 'none' },
  { key: 'r100ClientCores', label: '100-recipient pushes: simulated-user process CPU', better: 'none' },
  { key: 'r100OtherCores', label: '100-recipient pushes: other load on the machine', better: 'none' },
  { key: 'r100StolenCores', label: '100-recipient pushes: CPU taken by the hypervisor (steal)', better: 'none' },
  { key: 'tAcceptedPerSec', label: '1–3 recipients: notifications/s accepted (HTTP 202, stored)', better: 'higher' },
  { key: 'tDeliveredPerSec', label: '1–3 recipients: deliveries/s at saturation', better: 'higher' },
  { key: 'tUsPerNotification', label: '1–3 recipients: server CPU per notification (every Herald node + redis-server)', better: 'lower' },
  { key: 'tOtherCores', label: '1–3 recipients: other load on the machine', better: 'none' },
  { key: 'tStolenCores', label: '1–3 recipients: CPU taken by the hypervisor (steal)', better: 'none' },
  { key: 'halfRatePerSec', label: '1–3 recipients: notifications/s offered for latency (the same for both setups)', better: 'none' },
  { key: 'p50Ms', label: '1–3 recipients: push-to-receive p50 at that rate', better: 'lower' },
  { key: 'p99Ms', label: '1–3 recipients: push-to-receive p99 at that rate', better: 'lower' },
];

/** What the cluster scenario started, for the report and the smoke test's leftover checks. */
export const clusterState = {
  redis: [] as Array<{ pid: number; port: number }>,
};

export function emptyCluster(p: Profile): ScenarioResult {
  const users = p.fanoutSizes[0] ?? 0;
  const k = Math.min(100, users);
  return {
    title: 'Cluster: two nodes with Redis against one node',
    method:
      `Cluster: two Herald nodes (production mode) sharing a private redis-server (socket.io Redis adapter) and a fresh PostgreSQL schema; ` +
      `${users.toLocaleString('en-US')} users (one tab each) connected to node B, every push sent over HTTP to node A. ` +
      `One node: a single Herald node on the same PostgreSQL (its own fresh schema) without Redis, its users connected to it. ` +
      `Both setups up at once, runs alternating between them, ${p.runs} run(s) of ${p.clusterMs / 1000} s per figure. ` +
      `(a) pushes to ${k} random users each, closed loop over ${p.r100Concurrency} keep-alive connections; ` +
      `(b) pushes to 1–3 random users, closed loop over ${p.targetedConcurrency} connections, then an open loop at half the lower of the two setups' saturation medians, the same rate for both. ` +
      `Server CPU from /proc: every Herald process of the setup plus, for the cluster, redis-server (PostgreSQL's own CPU is not counted: it is shared with the machine). ` +
      `The SQLite column copies Herald's figures from the recipients-100 and targeted scenarios of this run (embedded mode, its own half rate), when they ran.`,
    rows: CLUSTER_ROWS,
    servers: {},
    columns: CLUSTER_COLUMNS,
    ratios: CLUSTER_RATIOS,
    variants: {},
  };
}

interface Setup {
  key: VariantKey;
  /** Where pushes go (node A, or the one node). */
  push: Target;
  /** Where the users are (node B, or the one node). */
  deliver: Target;
  /** Every server-side process of the setup, for CPU per delivery. */
  serverPids: number[];
  ctx: Ctx;
  schema: string;
  result: ServerResult;
  c: RunCollector;
  /** Pushes answered 202, warm-ups included (for the stored check). */
  accepted: number;
  saturation: number[];
}

/** LIFO cleanup that runs every step even when one fails. */
export class Cleanup {
  private readonly steps: Array<{ what: string; fn: () => Promise<unknown> }> = [];
  add(what: string, fn: () => Promise<unknown>): void {
    this.steps.push({ what, fn });
  }
  async run(errors: string[]): Promise<void> {
    for (const { what, fn } of this.steps.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(`cleanup: ${what}: ${(err as Error).message}`);
      }
    }
  }
}

export async function runCluster(p: Profile, scenario: ScenarioResult, isOver: () => boolean, warnings: string[]): Promise<void> {
  const users = p.fanoutSizes[0] ?? 0;
  const k = Math.min(100, users);
  const variants = (scenario.variants ??= {});
  const results: Record<VariantKey, ServerResult> = { cluster: (variants.cluster ??= emptyServerResult()), one: (variants.one ??= emptyServerResult()) };
  if (k < 100) results.cluster.notes.push(`only ${users} users connected: the batched pushes name ${k} recipients`);
  const cleanup = new Cleanup();
  const cleanupErrors: string[] = [];
  try {
    // --- services and nodes ---
    // Schema names first, so the redis watchdog can drop them should this process be killed outright.
    const schemaOne = reserveSchema();
    const schemaCluster = reserveSchema();
    cleanup.add(`drop schema ${schemaOne}`, () => dropSchema(schemaOne));
    cleanup.add(`drop schema ${schemaCluster}`, () => dropSchema(schemaCluster));
    const redis: PrivateRedis = await startPrivateRedis(ROOT, [schemaOne, schemaCluster]);
    clusterState.redis.push({ pid: redis.pid, port: redis.port });
    cleanup.add('stop the private redis-server', () => redis.stop());
    log(`cluster: private redis-server on port ${redis.port} (pid ${redis.pid})`);
    const created = await Promise.allSettled([createSchema(schemaOne), createSchema(schemaCluster)]);
    const notCreated = created.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (notCreated) throw notCreated.reason as Error;
    log(`cluster: PostgreSQL schemas ${schemaCluster} (cluster) and ${schemaOne} (one node)`);

    const db = { DATABASE_URL: BENCH_DATABASE_URL };
    const one = await startHerald({ name: 'herald-one', profile: false, env: { ...db, DATABASE_SCHEMA: schemaOne, NODE_ID: 'bench-one' } });
    cleanup.add('stop the one node', () => one.dispose());
    // The two cluster nodes boot at once against the empty schema, as a deployment would.
    const booted = await Promise.allSettled(
      (['a', 'b'] as const).map((n) =>
        startHerald({ name: `herald-${n}`, profile: false, env: { ...db, DATABASE_SCHEMA: schemaCluster, REDIS_URL: redis.url, NODE_ID: `bench-node-${n}` } }),
      ),
    );
    for (const b of booted) if (b.status === 'fulfilled') cleanup.add(`stop ${b.value.proc.name}`, () => b.value.dispose());
    const failed = booted.find((b): b is PromiseRejectedResult => b.status === 'rejected');
    if (failed) throw failed.reason as Error;
    const [a, b] = booted.map((x) => (x as PromiseFulfilledResult<Target>).value) as [Target, Target];
    log(`cluster: node A on port ${a.port}, node B on port ${b.port}, one node on port ${one.port}`);

    const clients: Spawned = await startHelper('clients', 'bench/clients.ts');
    cleanup.add('stop the simulated users', () => clients.stop(2_000));
    const loadgen: Spawned = await startHelper('loadgen', 'bench/loadgen.ts');
    cleanup.add('stop the load generator', () => loadgen.stop(2_000));
    cleanup.add('close the simulated users', () => clients.ipc.request({ op: 'close', timeoutMs: 15_000 }, 30_000).catch(() => undefined));

    const setup = (key: VariantKey, push: Target, deliver: Target, serverPids: number[], schema: string): Setup => ({
      key,
      push,
      deliver,
      serverPids,
      ctx: { p, target: push, clients, loadgen, alsoMeter: serverPids.filter((pid) => pid !== push.proc.pid) },
      schema,
      result: results[key],
      c: new RunCollector(),
      accepted: 0,
      saturation: [],
    });
    const setups: Record<VariantKey, Setup> = {
      cluster: setup('cluster', a, b, [a.proc.pid, b.proc.pid, redis.pid], schemaCluster),
      one: setup('one', one, one, [one.proc.pid], schemaOne),
    };
    // Users: all on node B for the cluster, all on the one node for the other setup.
    for (const s of Object.values(setups)) {
      await connectUsers({ ...s.ctx, target: s.deliver }, 0, users);
    }
    const sockets = { a: await a.connections(), b: await b.connections(), one: await one.connections() };
    results.cluster.notes.push(`sockets at the start: node A ${sockets.a}, node B ${sockets.b} (every delivery crossed Redis from A to B)`);
    if (sockets.a !== 0 || sockets.b !== users) results.cluster.errors.push(`expected 0 sockets on node A and ${users} on node B, found ${sockets.a} and ${sockets.b}`);
    log(`cluster: ${users} users on node B, ${users} on the one node`);

    // --- runs ---
    const order = (i: number): Setup[] => (i % 2 === 0 ? [setups.one, setups.cluster] : [setups.cluster, setups.one]);
    const run = async (s: Setup, spec: LoadSpec): Promise<LoadRun> => {
      const r = await load(s.ctx, spec);
      s.accepted += r.notifications;
      return r;
    };
    const check = (s: Setup, r: LoadRun, what: string) => {
      tally(s.result, r.expected, r.delivered);
      const bad = Object.entries(r.statuses).filter(([code]) => code !== '202');
      if (bad.length > 0) s.result.errors.push(`${what}: answers ${JSON.stringify(Object.fromEntries(bad))}`);
      if (r.timedOut) s.result.errors.push(`${what}: ${r.expected - r.delivered} deliveries missing after the drain timeout`);
      if (r.delivered > r.expected) s.result.errors.push(`${what}: ${r.delivered - r.expected} deliveries more than expected (duplicates)`);
      if (r.dropped > 0) s.result.notes.push(`${what}: the load generator fell behind and skipped ${r.dropped} pushes`);
    };
    const cores = (r: LoadRun, pid: number) => (r.cpu.pidUs.get(pid) ?? NaN) / (r.cpu.wallMs * 1000);
    const serverUs = (s: Setup, r: LoadRun) => s.serverPids.reduce((sum, pid) => sum + (r.cpu.pidUs.get(pid) ?? NaN), 0);
    const skip = (what: string) => {
      for (const s of Object.values(setups)) s.result.errors.push(`${what} skipped: the run reached its time budget`);
    };

    const r100 = { mode: 'closed', concurrency: p.r100Concurrency, rmin: k, rmax: k, users } as const;
    const targeted = { users, rmin: 1, rmax: 3, concurrency: p.targetedConcurrency } as const;
    for (const s of order(0)) {
      await warmUp(s.ctx, `cluster/${s.key} batched`, () => run(s, { ...r100, durationMs: p.warmupMs }));
      await warmUp(s.ctx, `cluster/${s.key} targeted`, () => run(s, { ...targeted, mode: 'closed', durationMs: p.warmupMs }));
    }

    // (a) batched pushes
    for (let i = 0; i < p.runs; i++) {
      if (isOver()) {
        skip(`batched run ${i + 1}`);
        break;
      }
      for (const s of order(i)) {
        try {
          const r = await run(s, { ...r100, durationMs: p.clusterMs });
          check(s, r, `batched run ${i + 1}`);
          s.c.add('r100DeliveriesPerSec', r.deliveredPerSec, '/s');
          s.c.add('r100PushesPerSec', r.notificationsPerSec, '/s');
          s.c.add('r100UsPerDelivery', serverUs(s, r) / r.delivered, 'µs');
          s.c.add('r100PushNodeCores', cores(r, s.push.proc.pid), 'cores');
          if (s.key === 'cluster') {
            s.c.add('r100DeliverNodeCores', cores(r, s.deliver.proc.pid), 'cores');
            s.c.add('r100RedisCores', cores(r, redis.pid), 'cores');
          }
          s.c.add('r100PushNodeWait', r.cpu.serverMainWait * 100, '%');
          s.c.add('r100ClientCores', r.cpu.clientCores, 'cores');
          s.c.add('r100OtherCores', r.cpu.otherCores, 'cores');
          s.c.add('r100StolenCores', r.cpu.stolenCores, 'cores');
          log(
            `cluster/${s.key} ${k}-recipient pushes ${i + 1}/${p.runs}: ${fmt(r.deliveredPerSec)} deliveries/s, ${fmt(r.notificationsPerSec)} pushes/s, ` +
              `${fmt(serverUs(s, r) / r.delivered, 2)} µs server CPU per delivery`,
          );
        } catch (err) {
          s.result.errors.push(`batched run ${i + 1}: ${(err as Error).message}`);
        }
      }
    }

    // (b) 1–3-recipient stream: saturation, then latency at one rate for both
    for (let i = 0; i < p.runs; i++) {
      if (isOver()) {
        skip(`targeted saturation run ${i + 1}`);
        break;
      }
      for (const s of order(i)) {
        try {
          const r = await run(s, { ...targeted, mode: 'closed', durationMs: p.clusterMs });
          check(s, r, `targeted saturation run ${i + 1}`);
          s.c.add('tAcceptedPerSec', r.notificationsPerSec, '/s');
          s.c.add('tDeliveredPerSec', r.deliveredPerSec, '/s');
          s.c.add('tUsPerNotification', serverUs(s, r) / r.notifications, 'µs');
          s.c.add('tOtherCores', r.cpu.otherCores, 'cores');
          s.c.add('tStolenCores', r.cpu.stolenCores, 'cores');
          s.saturation.push(r.notificationsPerSec);
          log(`cluster/${s.key} targeted saturation ${i + 1}/${p.runs}: ${fmt(r.notificationsPerSec)} notifications/s, ${fmt(r.deliveredPerSec)} deliveries/s`);
        } catch (err) {
          s.result.errors.push(`targeted saturation run ${i + 1}: ${(err as Error).message}`);
        }
      }
    }
    const half = Math.min(median(setups.one.saturation), median(setups.cluster.saturation)) / 2;
    if (Number.isFinite(half) && half > 0) {
      for (let i = 0; i < p.runs; i++) {
        if (isOver()) {
          skip(`half-rate run ${i + 1}`);
          break;
        }
        for (const s of order(i)) {
          try {
            const r = await run(s, { ...targeted, mode: 'open', rate: half, durationMs: p.clusterMs });
            check(s, r, `half-rate run ${i + 1}`);
            s.c.add('halfRatePerSec', half, '/s');
            s.c.add('p50Ms', r.latency.p50Ms, 'ms');
            s.c.add('p99Ms', r.latency.p99Ms, 'ms');
            log(`cluster/${s.key} targeted at ${fmt(half)}/s ${i + 1}/${p.runs}: p50 ${fmt(r.latency.p50Ms, 2)} ms, p99 ${fmt(r.latency.p99Ms, 2)} ms`);
          } catch (err) {
            s.result.errors.push(`half-rate run ${i + 1}: ${(err as Error).message}`);
          }
        }
      }
    }

    // --- what stayed true ---
    const st = await stats(clients);
    if (st.disconnects > 0) warnings.push(`cluster scenario: ${st.disconnects} simulated users were disconnected`);
    for (const s of Object.values(setups)) {
      s.c.into(s.result);
      try {
        const stored = await countRows(s.schema, 'notifications');
        const note = `stored: ${stored.toLocaleString('en-US')} notifications in PostgreSQL (schema ${s.schema}) for ${s.accepted.toLocaleString('en-US')} pushes answered 202`;
        s.result.notes.push(note);
        if (stored < s.accepted) {
          s.result.errors.push(`lost stored notifications: ${note}`);
          warnings.push(`cluster/${s.key} lost stored notifications: ${note}`);
        }
      } catch (err) {
        s.result.errors.push(`could not count the stored notifications: ${(err as Error).message}`);
      }
    }
  } finally {
    await cleanup.run(cleanupErrors);
    for (const e of cleanupErrors) warnings.push(`cluster scenario ${e}`);
  }
}

/** Copies Herald's embedded-mode (SQLite) figures from the other scenarios of the run into the cluster table. */
export function addSqliteReference(scenarios: Record<string, ScenarioResult>): void {
  const cluster = scenarios.cluster;
  const r100 = scenarios['recipients-100']?.servers.herald?.metrics;
  const t = scenarios.targeted?.servers.herald?.metrics;
  if (!cluster?.variants) return;
  const ref = emptyServerResult();
  cluster.variants.sqlite = ref;
  if (!r100 && !t) {
    ref.notes.push('not in this run: the recipients-100 and targeted scenarios did not run (`--scenarios`)');
    return;
  }
  const copy = (to: string, from: ServerResult['metrics'] | undefined, key: string) => {
    const m = from?.[key];
    if (m && m.runs.length > 0) ref.metrics[to] = m;
  };
  copy('r100DeliveriesPerSec', r100, 'deliveriesPerSec');
  copy('r100PushesPerSec', r100, 'pushesPerSec');
  copy('r100UsPerDelivery', r100, 'serverUsPerDelivery');
  copy('r100PushNodeCores', r100, 'serverCores');
  copy('r100PushNodeWait', r100, 'serverMainWait');
  copy('r100ClientCores', r100, 'clientCores');
  copy('r100OtherCores', r100, 'otherCores');
  copy('r100StolenCores', r100, 'stolenCores');
  copy('tAcceptedPerSec', t, 'acceptedPerSec');
  copy('tDeliveredPerSec', t, 'deliveredPerSec');
  copy('tUsPerNotification', t, 'serverUsPerNotification');
  copy('tOtherCores', t, 'otherCores');
  copy('tStolenCores', t, 'stolenCores');
  copy('halfRatePerSec', t, 'halfRatePerSec');
  copy('p50Ms', t, 'p50Ms');
  copy('p99Ms', t, 'p99Ms');
  ref.notes.push('copied from the recipients-100 and targeted scenarios of this run (SQLite inbox, measured earlier, latency at its own half rate)');
}

/** For the goals: the cluster's batched throughput over one node's, with what stands behind it. */
export function clusterGoal(scenario: ScenarioResult | undefined): {
  ratio: number;
  cluster: ServerResult | undefined;
  one: ServerResult | undefined;
} {
  const cluster = scenario?.variants?.cluster;
  const one = scenario?.variants?.one;
  const c = cluster?.metrics.r100DeliveriesPerSec;
  const o = one?.metrics.r100DeliveriesPerSec;
  return { ratio: c && o && c.runs.length > 0 && o.runs.length > 0 ? c.median / o.median : NaN, cluster, one };
}
