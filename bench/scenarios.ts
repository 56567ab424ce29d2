import path from 'node:path';
import { MAX_RECIPIENTS_PER_PUSH } from '../lib/contract';
import {
  AUTH_SECRET,
  CONNECTION_TABS,
  DRAIN_TIMEOUT_MS,
  FD_HEADROOM,
  IPC_TIMEOUT_MS,
  MAX_OPEN_BACKLOG_ROUNDS,
  PUSH_KEY,
  PUSHES_IN_FLIGHT,
  ROOT,
  SOCKET_PATH,
  SOCKETS_PER_CLIENT_PROCESS,
  type Profile,
} from './config';
import { commitFloor } from './lib/disk';
import { gcBetween, type GcCounts } from './lib/gc';
import { Histogram, summarize, type HistogramJson } from './lib/hist';
import { HttpPool, pushHeaders } from './lib/http';
import type { IpcMessage } from './lib/ipc';
import { fmt, log } from './lib/log';
import { pushBody } from './lib/payload';
import { CpuMeter, fdCount, fdLimit, nowMs, peakRssKiB, resetPeakRss, sleep, spawnCommand, withTimeout, type Spawned } from './lib/proc';
import { median, RunCollector, type RowSpec, type ServerKind, type ServerResult, type SweepPoint } from './lib/results';
import { heraldState, startHelper, startTarget, type Target } from './targets';

/** The scenarios: each runs its runs against one server and fills in that server's result. */

// ---------------------------------------------------------------------------
// Context and logging
// ---------------------------------------------------------------------------
export interface ClientStats {
  received: number;
  firstAt: number;
  lastAt: number;
  hist: HistogramJson;
  disconnects: number;
  closeReasons: Record<string, number>;
  open: number;
  ready: number;
}

export interface Ctx {
  p: Profile;
  target: Target;
  clients: Spawned;
  loadgen: Spawned | undefined;
  /** More processes to meter (the cluster scenario: the other node, redis-server); see cpuReport's `pidUs`. */
  alsoMeter?: number[];
}


export async function resetClients(clients: Spawned, roundTarget: number): Promise<void> {
  await clients.ipc.request({ op: 'reset' }, IPC_TIMEOUT_MS);
  await clients.ipc.request({ op: 'rounds', target: roundTarget }, IPC_TIMEOUT_MS);
}

export const stats = (clients: Spawned) => clients.ipc.request<ClientStats>({ op: 'stats' }, IPC_TIMEOUT_MS);

/** Opens `tabs` sockets for each of users [from, from + users); with `ack`, they send receipts as the browser client does. */
export async function connectUsers(ctx: Ctx, from: number, users: number, tabs = 1, ack = false): Promise<{ connected: number; ms: number }> {
  const r = await ctx.clients.ipc.request<{ connected: number; failed: number; ms: number; errors: Record<string, number> }>(
    {
      op: 'connect',
      kind: ctx.target.clientKind,
      port: ctx.target.port,
      path: SOCKET_PATH,
      from,
      users,
      tabs,
      concurrency: 64,
      secret: AUTH_SECRET,
      timeoutMs: 120_000,
      ack,
    },
    180_000,
  );
  if (r.failed > 0 || r.connected < users * tabs) {
    throw new Error(`connected ${r.connected} of ${users * tabs} sockets: ${JSON.stringify(r.errors)}`);
  }
  return r;
}

/** CPU per process over a run, as cores and µs per unit of work. */
export function cpuReport(meter: CpuMeter, ctx: Ctx) {
  const r = meter.read();
  const wallUs = r.wallMs * 1000;
  const server = r.cpuUs.get(ctx.target.proc.pid) ?? NaN;
  const clients = r.cpuUs.get(ctx.clients.pid) ?? NaN;
  const loadgen = ctx.loadgen ? (r.cpuUs.get(ctx.loadgen.pid) ?? 0) : 0;
  const self = r.cpuUs.get(process.pid) ?? 0;
  const ours = (server + clients + loadgen + self) / wallUs;
  const extra = (ctx.alsoMeter ?? []).reduce((a, pid) => a + (r.cpuUs.get(pid) ?? 0), 0) / wallUs;
  return {
    serverUs: server,
    serverCores: server / wallUs,
    serverMainRun: r.mainRun.get(ctx.target.proc.pid) ?? NaN,
    serverMainWait: r.mainWait.get(ctx.target.proc.pid) ?? NaN,
    clientCores: clients / wallUs,
    loadgenCores: loadgen / wallUs,
    otherCores: Math.max(0, r.machineCores - ours - extra),
    /** Cores' worth of time the hypervisor gave to something else while this machine wanted to run (steal). */
    stolenCores: r.stolenCores,
    wallMs: r.wallMs,
    /** µs of CPU per metered process, by pid. */
    pidUs: r.cpuUs,
  };
}

export const meterFor = (ctx: Ctx) =>
  new CpuMeter([ctx.target.proc.pid, ctx.clients.pid, process.pid, ...(ctx.loadgen ? [ctx.loadgen.pid] : []), ...(ctx.alsoMeter ?? [])]);

// ---------------------------------------------------------------------------
// Fan-out
// ---------------------------------------------------------------------------
export interface FanRun {
  delivered: number;
  expected: number;
  perSec: number;
  latency: ReturnType<typeof summarize>;
  cpu: ReturnType<typeof cpuReport>;
  skipped: number;
  timedOut: boolean;
}

export const windowFor = (p: Profile, n: number) => Math.max(p.window, Math.ceil(PUSHES_IN_FLIGHT / Math.ceil(n / MAX_RECIPIENTS_PER_PUSH)));

/** Saturation: `window` rounds in flight; the next round goes out when one has reached every socket. */
export async function fanoutSaturated(ctx: Ctx, n: number, durationMs: number): Promise<FanRun> {
  await resetClients(ctx.clients, n);
  await ctx.target.settle();
  const meter = meterFor(ctx);
  const start = nowMs();
  const end = start + durationMs;
  let sent = 0;
  let done = 0;
  let timedOut = false;
  await new Promise<void>((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      off();
      clearTimeout(timer);
      resolve();
    };
    const off = ctx.clients.ipc.onEvent((m: IpcMessage) => {
      if (m.type !== 'round') return;
      done++;
      if (nowMs() < end) ctx.target.round(sent++, n, nowMs());
      else if (done >= sent) finish();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      finish();
    }, durationMs + DRAIN_TIMEOUT_MS);
    for (let i = 0; i < windowFor(ctx.p, n); i++) ctx.target.round(sent++, n, nowMs());
  });
  const s = await stats(ctx.clients);
  // The storage work these rounds left behind is part of their cost.
  await ctx.target.settle();
  const cpu = cpuReport(meter, ctx);
  return {
    delivered: s.received,
    expected: sent * n,
    perSec: s.received / ((s.lastAt - start) / 1000),
    latency: summarize(Histogram.from(s.hist)),
    cpu,
    skipped: 0,
    timedOut,
  };
}

/** Open loop: rounds at a fixed rate (deliveries/s), each stamped with its scheduled time. */
export async function fanoutOpen(ctx: Ctx, n: number, perSec: number, durationMs: number): Promise<FanRun> {
  await resetClients(ctx.clients, n);
  await ctx.target.settle();
  const meter = meterFor(ctx);
  const intervalMs = (n / perSec) * 1000;
  let sent = 0;
  let done = 0;
  let skipped = 0;
  const off = ctx.clients.ipc.onEvent((m: IpcMessage) => {
    if (m.type === 'round') done++;
  });
  const start = nowMs() + 2;
  for (let k = 0; ; k++) {
    const at = start + k * intervalMs;
    if (at > start + durationMs && k > 0) break;
    const wait = at - nowMs();
    if (wait > 0) await sleep(wait);
    if (sent - done > MAX_OPEN_BACKLOG_ROUNDS) {
      skipped++;
      continue;
    }
    ctx.target.round(sent++, n, at);
  }
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (done < sent && Date.now() < deadline) await sleep(5);
  off();
  const s = await stats(ctx.clients);
  const cpu = cpuReport(meter, ctx);
  return {
    delivered: s.received,
    expected: sent * n,
    perSec: s.received / (Math.max(durationMs, s.lastAt - start) / 1000),
    latency: summarize(Histogram.from(s.hist)),
    cpu,
    skipped,
    timedOut: done < sent,
  };
}

export const FANOUT_ROWS: RowSpec[] = [
  { key: 'deliveriesPerSec', label: 'deliveries/s at saturation', better: 'higher' },
  { key: 'serverUsPerDelivery', label: 'server CPU per delivery', better: 'lower' },
  { key: 'serverCores', label: 'server CPU at saturation', better: 'none' },
  { key: 'serverMainRun', label: 'server main thread on a CPU', better: 'none' },
  { key: 'serverMainWait', label: 'server main thread runnable, waiting for a CPU', better: 'lower' },
  { key: 'clientCores', label: 'client process CPU at saturation', better: 'none' },
  { key: 'halfRatePerSec', label: 'half rate: deliveries/s offered', better: 'none' },
  { key: 'p50Ms', label: 'half rate: latency p50', better: 'lower' },
  { key: 'p99Ms', label: 'half rate: latency p99', better: 'lower' },
  { key: 'maxMs', label: 'half rate: latency max', better: 'lower' },
  { key: 'halfRateStolenCores', label: 'half rate: CPU taken by the hypervisor (steal)', better: 'none' },
  { key: 'otherCores', label: 'other load on the machine', better: 'none' },
  { key: 'stolenCores', label: 'CPU taken by the hypervisor (steal)', better: 'none' },
];

/** Unmeasured load first: Herald's route handler and V8's optimized code need a moment. */
export async function warmUp(ctx: Ctx, what: string, run: () => Promise<unknown>): Promise<void> {
  if (ctx.p.warmupMs <= 0) return;
  try {
    await run();
  } catch (err) {
    log(`${ctx.target.kind} ${what} warm-up: ${(err as Error).message}`);
  }
}

export async function runFanout(ctx: Ctx, n: number, result: ServerResult): Promise<number> {
  const c = new RunCollector();
  const sat: number[] = [];
  await warmUp(ctx, `fan-out ${n}`, () => fanoutSaturated(ctx, n, ctx.p.warmupMs));
  for (let i = 0; i < ctx.p.runs; i++) {
    try {
      const r = await fanoutSaturated(ctx, n, ctx.p.fanoutMs);
      tally(result, r.expected, r.delivered);
      if (r.timedOut) result.errors.push(`saturation run ${i + 1}: rounds still incomplete ${DRAIN_TIMEOUT_MS / 1000} s after sending stopped`);
      c.add('deliveriesPerSec', r.perSec, '/s');
      c.add('serverUsPerDelivery', r.cpu.serverUs / r.delivered, 'µs');
      c.add('serverCores', r.cpu.serverCores, 'cores');
      c.add('serverMainRun', r.cpu.serverMainRun * 100, '%');
      c.add('serverMainWait', r.cpu.serverMainWait * 100, '%');
      c.add('clientCores', r.cpu.clientCores, 'cores');
      c.add('otherCores', r.cpu.otherCores, 'cores');
      c.add('stolenCores', r.cpu.stolenCores, 'cores');
      sat.push(r.perSec);
      log(
        `${ctx.target.kind} fan-out ${n} saturation ${i + 1}/${ctx.p.runs}: ${fmt(r.perSec)} deliveries/s, ` +
          `${fmt(r.cpu.serverUs / r.delivered, 2)} µs server CPU each (server ${fmt(r.cpu.serverCores, 2)} cores, clients ${fmt(r.cpu.clientCores, 2)})`,
      );
    } catch (err) {
      result.errors.push(`saturation run ${i + 1}: ${(err as Error).message}`);
    }
  }
  const satMedian = median(sat);
  if (Number.isFinite(satMedian) && satMedian > 0) {
    const half = satMedian / 2;
    for (let i = 0; i < ctx.p.runs; i++) {
      try {
        const r = await fanoutOpen(ctx, n, half, ctx.p.fanoutMs);
        tally(result, r.expected, r.delivered);
        if (r.skipped > 0) result.notes.push(`half-rate run ${i + 1} fell behind: ${r.skipped} rounds skipped`);
        c.add('halfRatePerSec', half, '/s');
        c.add('p50Ms', r.latency.p50Ms, 'ms');
        c.add('p99Ms', r.latency.p99Ms, 'ms');
        c.add('maxMs', r.latency.maxMs, 'ms');
        c.add('halfRateStolenCores', r.cpu.stolenCores, 'cores');
        log(
          `${ctx.target.kind} fan-out ${n} at ${fmt(half)}/s ${i + 1}/${ctx.p.runs}: p50 ${fmt(r.latency.p50Ms, 2)} ms, p99 ${fmt(r.latency.p99Ms, 2)} ms, max ${fmt(r.latency.maxMs, 1)} ms`,
        );
      } catch (err) {
        result.errors.push(`half-rate run ${i + 1}: ${(err as Error).message}`);
      }
    }
  }
  c.into(result);
  return satMedian;
}

export async function runSweep(ctx: Ctx, n: number, saturation: number): Promise<SweepPoint[]> {
  const points: SweepPoint[] = [];
  for (const f of ctx.p.sweepFractions) {
    try {
      const offered = saturation * f;
      const r = await fanoutOpen(ctx, n, offered, ctx.p.sweepMs);
      points.push({
        fraction: f,
        offeredPerSec: offered,
        achievedPerSec: r.perSec,
        p50Ms: r.latency.p50Ms,
        p99Ms: r.latency.p99Ms,
        maxMs: r.latency.maxMs,
        lost: r.expected - r.delivered,
      });
    } catch (err) {
      log(`${ctx.target.kind} sweep point ${f}: ${(err as Error).message}`);
    }
  }
  log(`${ctx.target.kind} latency sweep: ${points.map((p) => `${fmt(p.offeredPerSec)}/s→p99 ${fmt(p.p99Ms, 2)} ms`).join(', ')}`);
  return points;
}

export function tally(result: ServerResult, expected: number, delivered: number): void {
  result.expected += expected;
  result.delivered += delivered;
  result.lost += Math.max(0, expected - delivered);
}

// ---------------------------------------------------------------------------
// Targeted and 100-recipient pushes
// ---------------------------------------------------------------------------
export interface LoadSpec {
  mode: 'closed' | 'open' | 'sequential';
  durationMs: number;
  rate?: number;
  count?: number;
  gapMs?: number;
  concurrency: number;
  rmin: number;
  rmax: number;
  users: number;
  /** Herald only: pushes per `POST /api/push/batch` request (absent: one push per `POST /api/push`). */
  batch?: number;
  /** Herald only: each push carries one of this many collapse keys (absent: none). */
  collapse?: number;
}

export interface LoadRun {
  notifications: number;
  notificationsPerSec: number;
  expected: number;
  delivered: number;
  deliveredPerSec: number;
  latency: ReturnType<typeof summarize>;
  cpu: ReturnType<typeof cpuReport>;
  /** The server's garbage collections during the run. */
  gc: GcCounts;
  statuses: Record<string, number>;
  dropped: number;
  timedOut: boolean;
}

/** Herald: HTTP pushes from the load generator. References: the same stream generated inside the server. */
export async function load(ctx: Ctx, spec: LoadSpec): Promise<LoadRun> {
  await resetClients(ctx.clients, 0);
  await ctx.target.settle();
  const gcBefore = await ctx.target.gc();
  const meter = meterFor(ctx);
  const start = nowMs();
  let notifications: number;
  let expected: number;
  let statuses: Record<string, number> = {};
  let dropped = 0;
  let sendMs: number;
  const bound = spec.durationMs + (spec.count ?? 0) * ((spec.gapMs ?? 0) + 50) + 60_000;
  if (ctx.target.kind === 'herald') {
    if (!ctx.loadgen) throw new Error('no load generator');
    const r = await ctx.loadgen.ipc.request<{
      accepted: number;
      recipientsAccepted: number;
      statuses: Record<string, number>;
      dropped: number;
      durationMs: number;
    }>({ op: 'run', port: ctx.target.port, key: PUSH_KEY, ...spec }, bound);
    notifications = r.accepted;
    expected = r.recipientsAccepted;
    statuses = r.statuses;
    dropped = r.dropped;
    sendMs = r.durationMs;
    heraldState.accepted += r.accepted;
  } else {
    const rate = spec.mode === 'closed' ? 0 : spec.mode === 'open' ? (spec.rate ?? 0) : 1000 / Math.max(1, spec.gapMs ?? 5);
    const r = await ctx.target.proc.ipc.request<{ sent: number; deliveries: number; elapsedMs: number }>(
      {
        op: 'burst',
        count: spec.count ?? 1e12,
        durationMs: spec.count !== undefined ? bound : spec.durationMs,
        rate,
        rmin: spec.rmin,
        rmax: spec.rmax,
        users: spec.users,
      },
      bound,
    );
    notifications = r.sent;
    expected = r.deliveries;
    sendMs = r.elapsedMs;
  }
  const w = await ctx.clients.ipc.request<{ timedOut: boolean }>({ op: 'waitFor', count: expected, timeoutMs: DRAIN_TIMEOUT_MS }, DRAIN_TIMEOUT_MS + IPC_TIMEOUT_MS);
  // Let stragglers (duplicates, if any) show up before counting.
  await sleep(20);
  const s = await stats(ctx.clients);
  await ctx.target.settle();
  const cpu = cpuReport(meter, ctx);
  const gc = gcBetween(gcBefore, await ctx.target.gc());
  return {
    notifications,
    notificationsPerSec: notifications / (sendMs / 1000),
    expected,
    delivered: s.received,
    deliveredPerSec: s.received / ((s.lastAt - start) / 1000),
    latency: summarize(Histogram.from(s.hist)),
    cpu,
    gc,
    statuses,
    dropped,
    timedOut: w.timedOut,
  };
}

/** Notifications per batch request in the targeted scenario's batch runs, and batch requests in flight. */
export const BATCH_ITEMS = 100;
const BATCH_CONCURRENCY = 8;

export const TARGETED_ROWS: RowSpec[] = [
  { key: 'acceptedPerSec', label: 'notifications/s accepted (Herald: HTTP 202, stored) / emitted (refs)', better: 'higher' },
  { key: 'deliveredPerSec', label: 'deliveries/s at saturation', better: 'higher' },
  { key: 'serverUsPerNotification', label: 'server CPU per notification', better: 'lower' },
  { key: 'serverCores', label: 'server CPU at saturation', better: 'none' },
  { key: 'serverMainRun', label: 'server main thread on a CPU', better: 'none' },
  { key: 'serverMainWait', label: 'server main thread runnable, waiting for a CPU', better: 'lower' },
  { key: 'loadgenCores', label: 'load generator CPU at saturation', better: 'none' },
  { key: 'batchPerSec', label: `batch push (${BATCH_ITEMS} single-recipient notifications per request): notifications/s stored`, better: 'higher' },
  { key: 'batchDeliveredPerSec', label: 'batch push: deliveries/s', better: 'higher' },
  { key: 'batchUsPerNotification', label: 'batch push: server CPU per notification', better: 'lower' },
  { key: 'halfRatePerSec', label: 'half rate: notifications/s offered', better: 'none' },
  { key: 'p50Ms', label: 'half rate: push-to-receive p50', better: 'lower' },
  { key: 'p99Ms', label: 'half rate: push-to-receive p99', better: 'lower' },
  { key: 'halfRateMajorGcs', label: 'half rate: major GCs in the server during the run', better: 'none' },
  { key: 'halfRateStolenCores', label: 'half rate: CPU taken by the hypervisor (steal)', better: 'none' },
  { key: 'idleP50Ms', label: 'idle single push: p50', better: 'lower' },
  { key: 'idleP99Ms', label: 'idle single push: p99', better: 'lower' },
  { key: 'peakRssMiB', label: 'server peak RSS during the scenario (all its runs)', better: 'lower' },
  { key: 'busyAcceptedPerSec', label: 'with a busy core (`yes > /dev/null` beside the run): notifications/s accepted', better: 'higher' },
  { key: 'busyHalfRatePerSec', label: 'with a busy core: half rate, notifications/s offered', better: 'none' },
  { key: 'busyP99Ms', label: 'with a busy core: half rate, push-to-receive p99', better: 'lower' },
  { key: 'busyOtherCores', label: 'with a busy core: other load on the machine (the busy core included)', better: 'none' },
  { key: 'commitP50Ms', label: "storage floor beside Herald's data: one-row commit (WAL, synchronous = FULL), p50", better: 'none' },
  { key: 'commitP99Ms', label: 'storage floor: one-row commit, p99', better: 'none' },
  { key: 'httpFloorPerSec', label: "plain-http floor in Herald's process (GET /healthz)", better: 'none' },
  { key: 'otherCores', label: 'other load on the machine', better: 'none' },
  { key: 'stolenCores', label: 'CPU taken by the hypervisor (steal)', better: 'none' },
];

export async function runTargeted(ctx: Ctx, users: number, result: ServerResult): Promise<void> {
  const c = new RunCollector();
  const p = ctx.p;
  const sat: number[] = [];
  const base = { users, rmin: 1, rmax: 3, concurrency: p.targetedConcurrency };
  const check = (r: LoadRun, what: string) => {
    tally(result, r.expected, r.delivered);
    const bad = Object.entries(r.statuses).filter(([k]) => k !== '202');
    if (bad.length > 0) result.errors.push(`${what}: answers ${JSON.stringify(Object.fromEntries(bad))}`);
    if (r.timedOut) result.errors.push(`${what}: ${r.expected - r.delivered} deliveries missing after ${DRAIN_TIMEOUT_MS / 1000} s`);
    if (r.dropped > 0) result.notes.push(`${what}: the load generator fell behind and skipped ${r.dropped} pushes`);
  };
  // The server's peak RSS from here to the last idle push (change 22 in docs/benchmarks.md trades memory for rarer major GCs).
  const peakFromHere = resetPeakRss(ctx.target.proc.pid);
  await warmUp(ctx, 'targeted', () => load(ctx, { ...base, mode: 'closed', durationMs: p.warmupMs }));
  for (let i = 0; i < p.runs; i++) {
    try {
      const r = await load(ctx, { ...base, mode: 'closed', durationMs: p.targetedMs });
      check(r, `saturation run ${i + 1}`);
      c.add('acceptedPerSec', r.notificationsPerSec, '/s');
      c.add('deliveredPerSec', r.deliveredPerSec, '/s');
      c.add('serverUsPerNotification', r.cpu.serverUs / r.notifications, 'µs');
      c.add('serverCores', r.cpu.serverCores, 'cores');
      c.add('serverMainRun', r.cpu.serverMainRun * 100, '%');
      c.add('serverMainWait', r.cpu.serverMainWait * 100, '%');
      if (ctx.loadgen) c.add('loadgenCores', r.cpu.loadgenCores, 'cores');
      c.add('otherCores', r.cpu.otherCores, 'cores');
      c.add('stolenCores', r.cpu.stolenCores, 'cores');
      sat.push(r.notificationsPerSec);
      log(
        `${ctx.target.kind} targeted saturation ${i + 1}/${p.runs}: ${fmt(r.notificationsPerSec)} notifications/s, ${fmt(r.deliveredPerSec)} deliveries/s ` +
          `(server ${fmt(r.cpu.serverCores, 2)} cores, loadgen ${fmt(r.cpu.loadgenCores, 2)}, clients ${fmt(r.cpu.clientCores, 2)})`,
      );
    } catch (err) {
      result.errors.push(`saturation run ${i + 1}: ${(err as Error).message}`);
    }
  }
  if (ctx.target.kind === 'herald') {
    // The same stream of single-recipient notifications, sent in batches (the references have no HTTP to batch).
    for (let i = 0; i < p.runs; i++) {
      try {
        const r = await load(ctx, { ...base, rmax: 1, mode: 'closed', batch: BATCH_ITEMS, concurrency: BATCH_CONCURRENCY, durationMs: p.targetedMs });
        check(r, `batch run ${i + 1}`);
        c.add('batchPerSec', r.notificationsPerSec, '/s');
        c.add('batchDeliveredPerSec', r.deliveredPerSec, '/s');
        c.add('batchUsPerNotification', r.cpu.serverUs / r.notifications, 'µs');
        log(`herald batch push ${i + 1}/${p.runs}: ${fmt(r.notificationsPerSec)} notifications/s, ${fmt(r.deliveredPerSec)} deliveries/s (server ${fmt(r.cpu.serverCores, 2)} cores)`);
      } catch (err) {
        result.errors.push(`batch run ${i + 1}: ${(err as Error).message}`);
      }
    }
  }
  const half = median(sat) / 2;
  if (Number.isFinite(half) && half > 0) {
    for (let i = 0; i < p.runs; i++) {
      try {
        const r = await load(ctx, { ...base, mode: 'open', rate: half, durationMs: p.targetedMs });
        check(r, `half-rate run ${i + 1}`);
        c.add('halfRatePerSec', half, '/s');
        c.add('p50Ms', r.latency.p50Ms, 'ms');
        c.add('p99Ms', r.latency.p99Ms, 'ms');
        c.add('halfRateStolenCores', r.cpu.stolenCores, 'cores');
        c.add('halfRateMajorGcs', r.gc.major, 'count');
        log(
          `${ctx.target.kind} targeted at ${fmt(half)}/s ${i + 1}/${p.runs}: p50 ${fmt(r.latency.p50Ms, 2)} ms, p99 ${fmt(r.latency.p99Ms, 2)} ms, ` +
            `${r.gc.major} major GC${r.gc.major === 1 ? '' : 's'} in the server`,
        );
      } catch (err) {
        result.errors.push(`half-rate run ${i + 1}: ${(err as Error).message}`);
      }
    }
  }
  for (let i = 0; i < p.runs; i++) {
    try {
      const r = await load(ctx, {
        ...base,
        rmax: 1,
        mode: 'sequential',
        count: p.idlePushes,
        gapMs: p.idleGapMs,
        concurrency: 1,
        durationMs: 60_000,
      });
      check(r, `idle run ${i + 1}`);
      c.add('idleP50Ms', r.latency.p50Ms, 'ms');
      c.add('idleP99Ms', r.latency.p99Ms, 'ms');
      log(`${ctx.target.kind} idle single pushes ${i + 1}/${p.runs}: p50 ${fmt(r.latency.p50Ms, 2)} ms, p99 ${fmt(r.latency.p99Ms, 2)} ms`);
    } catch (err) {
      result.errors.push(`idle run ${i + 1}: ${(err as Error).message}`);
    }
  }
  const peak = peakRssKiB(ctx.target.proc.pid);
  if (peakFromHere && Number.isFinite(peak)) c.add('peakRssMiB', peak / 1024, 'MiB');
  if (ctx.target.kind === 'herald') await runBusyCore(ctx, base, c, result, check);
  const { dataDir } = ctx.target;
  if (ctx.target.kind === 'herald' && dataDir) {
    // What the disk under Herald's inbox gives a lone commit: the floor an idle push sits on.
    for (let i = 0; i < p.runs; i++) {
      try {
        const f = await commitFloor(path.dirname(dataDir), p.idlePushes, p.idleGapMs);
        c.add('commitP50Ms', f.p50Ms, 'ms');
        c.add('commitP99Ms', f.p99Ms, 'ms');
        log(`storage floor ${i + 1}/${p.runs}: one-row commit p50 ${fmt(f.p50Ms, 2)} ms, p99 ${fmt(f.p99Ms, 2)} ms, max ${fmt(f.maxMs, 2)} ms`);
      } catch (err) {
        result.errors.push(`storage floor: ${(err as Error).message}`);
      }
    }
  }
  if (ctx.target.kind === 'herald' && ctx.loadgen) {
    // What plain node:http does in the same process, before Next: the floor the push route sits on.
    try {
      const r = await ctx.loadgen.ipc.request<{ accepted: number; durationMs: number }>(
        { op: 'run', port: ctx.target.port, method: 'GET', path: '/healthz', mode: 'closed', concurrency: p.targetedConcurrency, durationMs: Math.max(300, p.targetedMs / 2) },
        p.targetedMs + 60_000,
      );
      c.add('httpFloorPerSec', r.accepted / (r.durationMs / 1000), '/s');
      log(`herald plain-http floor: ${fmt(r.accepted / (r.durationMs / 1000))} GET /healthz per s`);
    } catch (err) {
      result.errors.push(`http floor: ${(err as Error).message}`);
    }
  }
  c.into(result);
}

/**
 * The slow-host imitation (issue 26): the same saturation and half-rate runs
 * with `yes > /dev/null` taking a core's worth of CPU beside them, against the
 * quiet figures of this same scenario. The half rate is half the busy
 * saturation median.
 */
async function runBusyCore(
  ctx: Ctx,
  base: { users: number; rmin: number; rmax: number; concurrency: number },
  c: RunCollector,
  result: ServerResult,
  check: (r: LoadRun, what: string) => void,
): Promise<void> {
  const p = ctx.p;
  const busy = spawnCommand('busy-core', 'bash', ['-c', 'exec yes > /dev/null'], { cwd: ROOT });
  try {
    const sat: number[] = [];
    for (let i = 0; i < p.runs; i++) {
      try {
        const r = await load(ctx, { ...base, mode: 'closed', durationMs: p.targetedMs });
        check(r, `busy-core saturation run ${i + 1}`);
        c.add('busyAcceptedPerSec', r.notificationsPerSec, '/s');
        c.add('busyOtherCores', r.cpu.otherCores, 'cores');
        sat.push(r.notificationsPerSec);
        log(`herald targeted with a busy core ${i + 1}/${p.runs}: ${fmt(r.notificationsPerSec)} notifications/s (other load ${fmt(r.cpu.otherCores, 2)} cores)`);
      } catch (err) {
        result.errors.push(`busy-core saturation run ${i + 1}: ${(err as Error).message}`);
      }
    }
    const half = median(sat) / 2;
    if (!(Number.isFinite(half) && half > 0)) return;
    for (let i = 0; i < p.runs; i++) {
      try {
        const r = await load(ctx, { ...base, mode: 'open', rate: half, durationMs: p.targetedMs });
        check(r, `busy-core half-rate run ${i + 1}`);
        c.add('busyHalfRatePerSec', half, '/s');
        c.add('busyP99Ms', r.latency.p99Ms, 'ms');
        log(`herald targeted with a busy core at ${fmt(half)}/s ${i + 1}/${p.runs}: p50 ${fmt(r.latency.p50Ms, 2)} ms, p99 ${fmt(r.latency.p99Ms, 2)} ms`);
      } catch (err) {
        result.errors.push(`busy-core half-rate run ${i + 1}: ${(err as Error).message}`);
      }
    }
  } finally {
    await busy.stop();
  }
}

export const R100_ROWS: RowSpec[] = [
  { key: 'deliveriesPerSec', label: 'deliveries/s at saturation', better: 'higher' },
  { key: 'pushesPerSec', label: 'pushes/s', better: 'higher' },
  { key: 'serverUsPerDelivery', label: 'server CPU per delivery', better: 'lower' },
  { key: 'serverCores', label: 'server CPU', better: 'none' },
  { key: 'serverMainRun', label: 'server main thread on a CPU', better: 'none' },
  { key: 'serverMainWait', label: 'server main thread runnable, waiting for a CPU', better: 'lower' },
  { key: 'clientCores', label: 'client process CPU', better: 'none' },
  { key: 'otherCores', label: 'other load on the machine', better: 'none' },
  { key: 'stolenCores', label: 'CPU taken by the hypervisor (steal)', better: 'none' },
];

export async function runR100(ctx: Ctx, users: number, result: ServerResult): Promise<void> {
  const c = new RunCollector();
  const k = Math.min(100, users);
  if (k < 100) result.notes.push(`only ${users} users connected: pushes name ${k} recipients`);
  const spec = { mode: 'closed', concurrency: ctx.p.r100Concurrency, rmin: k, rmax: k, users } as const;
  await warmUp(ctx, `${k}-recipient`, () => load(ctx, { ...spec, durationMs: ctx.p.warmupMs }));
  for (let i = 0; i < ctx.p.runs; i++) {
    try {
      const r = await load(ctx, { ...spec, durationMs: ctx.p.r100Ms });
      tally(result, r.expected, r.delivered);
      const bad = Object.entries(r.statuses).filter(([s]) => s !== '202');
      if (bad.length > 0) result.errors.push(`run ${i + 1}: answers ${JSON.stringify(Object.fromEntries(bad))}`);
      if (r.timedOut) result.errors.push(`run ${i + 1}: ${r.expected - r.delivered} deliveries missing after ${DRAIN_TIMEOUT_MS / 1000} s`);
      c.add('deliveriesPerSec', r.deliveredPerSec, '/s');
      c.add('pushesPerSec', r.notificationsPerSec, '/s');
      c.add('serverUsPerDelivery', r.cpu.serverUs / r.delivered, 'µs');
      c.add('serverCores', r.cpu.serverCores, 'cores');
      c.add('serverMainRun', r.cpu.serverMainRun * 100, '%');
      c.add('serverMainWait', r.cpu.serverMainWait * 100, '%');
      c.add('clientCores', r.cpu.clientCores, 'cores');
      c.add('otherCores', r.cpu.otherCores, 'cores');
      c.add('stolenCores', r.cpu.stolenCores, 'cores');
      log(`${ctx.target.kind} ${k}-recipient pushes ${i + 1}/${ctx.p.runs}: ${fmt(r.deliveredPerSec)} deliveries/s, ${fmt(r.notificationsPerSec)} pushes/s`);
    } catch (err) {
      result.errors.push(`run ${i + 1}: ${(err as Error).message}`);
    }
  }
  c.into(result);
}

// ---------------------------------------------------------------------------
// Catch-up (Herald only: the references keep nothing)
// ---------------------------------------------------------------------------
export const CATCHUP_ROWS: RowSpec[] = [
  { key: 'lastMs', label: 'returning user: connect until the last missed notification', better: 'lower' },
  { key: 'syncedMs', label: 'returning user: connect until notifications:synced', better: 'lower' },
  { key: 'readyMs', label: 'returning user with nothing missed: connect until synced', better: 'lower' },
];

export async function runCatchup(ctx: Ctx, result: ServerResult): Promise<void> {
  const c = new RunCollector();
  const missed = ctx.p.catchupMissed;
  const pool = new HttpPool('127.0.0.1', ctx.target.port, 8);
  const headers = pushHeaders(PUSH_KEY);
  try {
    for (let i = 0; i < ctx.p.runs; i++) {
      try {
        const user = `late-${i}-${Date.now().toString(36)}`;
        const tokens = JSON.stringify([user]);
        let next = 0;
        let accepted = 0;
        const worker = async () => {
          while (next < missed) {
            next++;
            const a = await pool.request('POST', '/api/push', headers, pushBody(tokens, -1));
            if (a.status === 202) accepted++;
          }
        };
        await withTimeout(Promise.all(Array.from({ length: 8 }, worker)), 60_000, 'pushing the missed notifications');
        heraldState.accepted += accepted;
        if (accepted !== missed) throw new Error(`only ${accepted} of ${missed} pushes accepted`);
        const r = await ctx.clients.ipc.request<{ replays: number; inOrder: boolean; lastMs: number; syncedMs: number; timedOut: boolean }>(
          { op: 'catchup', port: ctx.target.port, path: SOCKET_PATH, user, secret: AUTH_SECRET, lastSeq: 0, expect: missed, timeoutMs: 10_000 },
          30_000,
        );
        tally(result, missed, r.replays);
        if (!r.inOrder) result.errors.push(`run ${i + 1}: replay out of order`);
        if (r.timedOut) result.errors.push(`run ${i + 1}: no notifications:synced within 10 s`);
        c.add('lastMs', r.lastMs, 'ms');
        c.add('syncedMs', r.syncedMs, 'ms');
        // The same user again, now up to date: the cost of a reconnect with nothing to replay.
        const again = await ctx.clients.ipc.request<{ syncedMs: number }>(
          { op: 'catchup', port: ctx.target.port, path: SOCKET_PATH, user, secret: AUTH_SECRET, lastSeq: Number.MAX_SAFE_INTEGER, expect: 0, timeoutMs: 10_000 },
          30_000,
        );
        c.add('readyMs', again.syncedMs, 'ms');
        log(`herald catch-up ${i + 1}/${ctx.p.runs}: ${r.replays} of ${missed} replayed, last after ${fmt(r.lastMs, 1)} ms (synced ${fmt(r.syncedMs, 1)} ms)`);
      } catch (err) {
        result.errors.push(`run ${i + 1}: ${(err as Error).message}`);
      }
    }
  } finally {
    pool.close();
  }
  c.into(result);
}

// ---------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------
export const CONNECTION_ROWS: RowSpec[] = [
  { key: 'sockets', label: 'sockets held', better: 'higher' },
  { key: 'heldS', label: 'held for', better: 'none' },
  { key: 'disconnects', label: 'unexpected disconnects while held', better: 'lower' },
  { key: 'connectPerSec', label: 'connect rate (handshake complete)', better: 'higher' },
  { key: 'rssPerSocketKiB', label: 'server RSS per socket', better: 'lower' },
  { key: 'heapPerSocketKiB', label: 'server V8 heap per socket', better: 'lower' },
  { key: 'rssTotalMiB', label: 'server RSS with every socket open', better: 'lower' },
];

export async function runConnections(kind: ServerKind, p: Profile, result: ServerResult, isOver: () => boolean): Promise<void> {
  const helpers: Spawned[] = [];
  let target: Target | undefined;
  const c = new RunCollector();
  try {
    for (let run = 0; run < p.runs; run++) {
      if (isOver()) {
        result.notes.push(`stopped after ${run} run(s): time budget`);
        break;
      }
      // A fresh server per run: memory freed by an earlier run would hide part of the next one's cost.
      await target?.dispose();
      target = undefined;
      let t: Target;
      try {
        t = await startTarget(kind);
      } catch (err) {
        result.errors.push(`run ${run + 1}: server did not start: ${(err as Error).message.split('\n')[0] ?? ''}`);
        continue;
      }
      target = t;
      const limit = fdLimit(t.proc.pid);
      const cap = Math.floor((limit - fdCount(t.proc.pid) - FD_HEADROOM) / CONNECTION_TABS) * CONNECTION_TABS;
      const sockets = Math.min(p.connections, cap);
      if (sockets < p.connections && run === 0) {
        result.notes.push(
          `capped at ${sockets.toLocaleString('en-US')} sockets: the server process may open ${limit} files (RLIMIT_NOFILE hard limit here, not raisable without CAP_SYS_RESOURCE) and holds ${fdCount(t.proc.pid)} already`,
        );
      }
      const users = sockets / CONNECTION_TABS;
      const nProcs = Math.max(1, Math.ceil(sockets / SOCKETS_PER_CLIENT_PROCESS));
      while (helpers.length < nProcs) helpers.push(await startHelper(`clients-${helpers.length + 1}`, 'bench/clients.ts'));
      // The 60 s hold is Herald's goal; the references only need a figure to compare with.
      const holdMs = run === 0 && kind === 'herald' ? p.connHoldFirstMs : p.connHoldMs;
      try {
        const before = await t.mem();
        const share = Math.ceil(users / nProcs);
        const started = nowMs();
        const answers = await Promise.all(
          helpers.map((h, i) =>
            h.ipc.request<{ connected: number; failed: number; ms: number; errors: Record<string, number> }>(
              {
                op: 'connect',
                kind: t.clientKind,
                port: t.port,
                path: SOCKET_PATH,
                from: i * share,
                users: Math.max(0, Math.min(share, users - i * share)),
                tabs: CONNECTION_TABS,
                concurrency: 64,
                secret: AUTH_SECRET,
                timeoutMs: 120_000,
              },
              180_000,
            ),
          ),
        );
        const connectMs = nowMs() - started;
        const connected = answers.reduce((a, r) => a + r.connected, 0);
        const failed = answers.reduce((a, r) => a + r.failed, 0);
        if (failed > 0) result.errors.push(`run ${run + 1}: ${failed} sockets failed to connect: ${JSON.stringify(answers.map((r) => r.errors))}`);
        log(`${kind} connections ${run + 1}/${p.runs}: ${connected} sockets in ${fmt(connectMs)} ms (${fmt(connected / (connectMs / 1000))}/s); holding ${holdMs / 1000} s`);
        const holdStart = nowMs();
        await sleep(holdMs);
        const after = await t.mem();
        const serverCount = await t.connections();
        const clientStats = await Promise.all(helpers.map((h) => stats(h)));
        const heldS = (nowMs() - holdStart) / 1000;
        const disconnects = clientStats.reduce((a, s) => a + s.disconnects, 0);
        const stillOpen = clientStats.reduce((a, s) => a + s.ready, 0);
        if (serverCount !== connected) result.notes.push(`run ${run + 1}: server counted ${serverCount} connections, clients ${connected}`);
        c.add('sockets', stillOpen, 'sockets');
        c.add('heldS', heldS, 's');
        c.add('disconnects', disconnects, 'count');
        c.add('connectPerSec', connected / (connectMs / 1000), '/s');
        c.add('rssPerSocketKiB', (after.rssKiB - before.rssKiB) / connected, 'KiB');
        c.add('heapPerSocketKiB', (after.heapUsed - before.heapUsed) / 1024 / connected, 'KiB');
        c.add('rssTotalMiB', after.rssKiB / 1024, 'MiB');
        log(
          `${kind} connections ${run + 1}/${p.runs}: held ${stillOpen} for ${fmt(heldS, 1)} s, ${disconnects} disconnects, ` +
            `${fmt((after.rssKiB - before.rssKiB) / connected, 2)} KiB RSS and ${fmt((after.heapUsed - before.heapUsed) / 1024 / connected, 2)} KiB heap per socket`,
        );
        if (!after.gc) result.notes.push('heap measured without a forced GC');
      } catch (err) {
        result.errors.push(`run ${run + 1}: ${(err as Error).message}`);
      } finally {
        await Promise.all(helpers.map((h) => h.ipc.request({ op: 'close', timeoutMs: 30_000 }, 45_000).catch(() => undefined)));
      }
    }
  } finally {
    c.into(result);
    await Promise.all(helpers.map((h) => h.stop(2_000)));
    await target?.dispose();
  }
}

