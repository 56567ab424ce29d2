import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { Cleanup } from './cluster';
import { ROOT, type Profile } from './config';
import { fmt, log } from './lib/log';
import { CpuMeter, sleep, type Spawned } from './lib/proc';
import { emptyServerResult, RunCollector, type Goal, type RowSpec, type ScenarioResult, type ServerResult } from './lib/results';
import { connectUsers, fanoutSaturated, load, stats, tally, warmUp, windowFor, type Ctx, type LoadRun, type LoadSpec } from './scenarios';
import { startHelper, startHerald, type Target } from './targets';

/**
 * The features scenario: what each of Herald's optional or always-on parts
 * costs, as on/off pairs measured in one run (issues 20, 21 and 22).
 *
 * Five Herald processes (SQLite inbox each, the harness's usual env) are up at
 * once, and the runs alternate between them (the order turns each run), so
 * drifts in the machine's other load fall on all alike:
 *
 * - `shipped`: Herald as `npm start` runs it; the users do not acknowledge;
 * - `receipts`: the same, with users that acknowledge what they receive as the
 *   browser client does (`notifications:received`, at most every 250 ms), so
 *   Herald writes a `deliveredAt` per recipient;
 * - `webhooks`: as `receipts`, with `WEBHOOK_URL` set to a receiver inside the
 *   harness that answers 204, so each receipt also becomes an outbox event and
 *   leaves in a signed batch;
 * - `noMetrics`: Herald built with prom-client replaced by no-ops
 *   (bench/variants/no-metrics.ts): no metric is kept or collected;
 * - `noGuard`: Herald built without the slow-consumer guard's per-write check
 *   and its sweep (bench/variants/no-guard.ts).
 *
 * Herald has no switch for metrics or for the guard, and none is added for the
 * benchmark: the two "off" servers are bench-only builds of the same sources
 * with one module replaced, and the on/off pairs compare like with like, each
 * built here the same way from server.ts (`bench-<variant>.js` beside
 * dist/server.js, so that they find the compiled workers).
 *
 * Measured per variant: single-recipient pushes in a closed loop
 * (notifications/s; server CPU per notification, read after a pause that lets
 * the last receipts and webhook batches of the run be written and sent); and,
 * for `shipped`, `noMetrics` and `noGuard`, collapsing pushes and fan-out at
 * saturation (server CPU per delivery), and plain and collapsing pushes at one
 * fixed rate below both saturations (`collapseRatePerSec`), which issue 23's
 * goal compares. Those three do the same work in every round so that their
 * databases grow alike: a push into a bigger one costs more, and the metrics
 * pair would otherwise compare a shipped server holding the fan-outs' rows with
 * one that never had them.
 */

type Key = 'shipped' | 'receipts' | 'webhooks' | 'noMetrics' | 'noGuard';
const KEYS: Key[] = ['shipped', 'receipts', 'webhooks', 'noMetrics', 'noGuard'];

/** Collapse keys the collapsing run spreads its pushes over (issue 23). */
const COLLAPSE_KEYS = 8;

/** Long enough for the last receipts (250 ms) and the webhook batch they make (flushed within a second) to be written and sent. */
const AFTER_RUN_MS = 1_500;

export const FEATURE_ROWS: RowSpec[] = [
  { key: 'acceptedPerSec', label: 'single-recipient pushes: notifications/s accepted (HTTP 202, stored)', better: 'higher' },
  { key: 'usPerNotification', label: 'single-recipient pushes: server CPU per notification (receipts and webhooks included)', better: 'lower' },
  { key: 'collapsingPerSec', label: 'collapsing pushes (one of 8 keys, never read): notifications/s accepted', better: 'higher' },
  { key: 'usPerCollapsing', label: 'collapsing pushes: server CPU per notification', better: 'lower' },
  { key: 'usPerPlainAtRate', label: 'plain pushes at the fixed rate of the collapse comparison: server CPU per notification', better: 'lower' },
  { key: 'usPerCollapsingAtRate', label: 'collapsing pushes at the same rate: server CPU per notification', better: 'lower' },
  { key: 'fanoutUsPerDelivery', label: 'fan-out: server CPU per delivery', better: 'lower' },
  { key: 'fanoutDeliveriesPerSec', label: 'fan-out: deliveries/s at saturation', better: 'higher' },
  { key: 'webhookEventsPerSec', label: 'webhook events received by the harness, per second of closed loop', better: 'none' },
  { key: 'otherCores', label: 'other load on the machine', better: 'none' },
];

export function emptyFeatures(p: Profile): ScenarioResult {
  const users = p.fanoutSizes[0] ?? 0;
  return {
    title: 'Features on and off: receipts, webhooks, metrics, the slow-consumer guard',
    method:
      `Five Herald processes up at once (SQLite inbox each), ${users.toLocaleString('en-US')} users (one tab each) on each; runs alternate between them (the order turns each round, and every other round runs backwards), ${p.featureRuns} rounds; each on/off ratio is the median of the rounds' ratios. ` +
      `Single-recipient pushes: closed loop over ${p.targetedConcurrency} keep-alive connections for ${p.targetedMs / 1000} s; server CPU read ${AFTER_RUN_MS / 1000} s after the loop ends. ` +
      `Collapsing pushes and fan-out (as shipped, metrics off, guard off: the same work each round, so their databases grow alike): ${users.toLocaleString('en-US')} users, saturation for ${p.fanoutMs / 1000} s. ` +
      'Receipts: users acknowledge as the browser client does (notifications:received, at most every 250 ms). Webhooks: WEBHOOK_URL to a receiver in the harness answering 204. ' +
      'Metrics off and guard off are bench-only builds of the same sources with prom-client, or the guard\'s per-write check and sweep, replaced by no-ops; every column is built the same way from server.ts.',
    rows: FEATURE_ROWS,
    servers: {},
    columns: [
      { key: 'shipped', label: 'as shipped' },
      { key: 'receipts', label: 'users acknowledge (receipts)' },
      { key: 'webhooks', label: 'receipts + webhooks' },
      { key: 'noMetrics', label: 'metrics off (bench build)' },
      { key: 'noGuard', label: 'guard off (bench build)' },
    ],
    ratios: [
      { label: 'webhooks on/off', num: 'webhooks', den: 'receipts' },
      { label: 'receipts/none', num: 'receipts', den: 'shipped' },
      { label: 'metrics on/off', num: 'shipped', den: 'noMetrics' },
      { label: 'guard on/off', num: 'shipped', den: 'noGuard' },
    ],
    variants: {},
  };
}

// ---------------------------------------------------------------------------
// The builds
// ---------------------------------------------------------------------------
type Build = 'shipped' | 'no-metrics' | 'no-guard';

/** Bundles server.ts as tsup.config.ts does (ESM, node20, packages external), with one module replaced for the "off" builds. */
async function buildServer(variant: Build): Promise<string> {
  const outfile = path.join(ROOT, 'dist', `bench-${variant}.js`);
  const realtime = path.join(ROOT, 'lib', 'realtime') + path.sep;
  const replace: Plugin = {
    name: 'bench-variant',
    setup(b) {
      // tsconfig.json maps `server-only` to the empty lib/server-only.ts; tsup bundles it the same way.
      b.onResolve({ filter: /^server-only$/ }, () => ({ path: path.join(ROOT, 'lib', 'server-only.ts') }));
      if (variant === 'no-metrics') b.onResolve({ filter: /^prom-client$/ }, () => ({ path: path.join(ROOT, 'bench', 'variants', 'no-metrics.ts') }));
      if (variant === 'no-guard') {
        b.onResolve({ filter: /^\.\/backlog$/ }, (args) => (args.importer.startsWith(realtime) ? { path: path.join(ROOT, 'bench', 'variants', 'no-guard.ts') } : undefined));
      }
    },
  };
  await build({
    entryPoints: [path.join(ROOT, 'server.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
    plugins: [replace],
  });
  return path.relative(ROOT, outfile);
}

// ---------------------------------------------------------------------------
// The webhook receiver
// ---------------------------------------------------------------------------
interface Receiver {
  url: string;
  events: number;
  batches: number;
  close(): Promise<void>;
}

/** Answers every POST with 204 and counts the batches and the events in them (no signature check: Herald's tests do that). */
async function startReceiver(): Promise<Receiver> {
  const state = { events: 0, batches: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { events?: unknown[] } };
        state.events += body.data?.events?.length ?? 0;
        state.batches++;
      } catch {
        // counted as nothing
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/herald`,
    get events() {
      return state.events;
    },
    get batches() {
      return state.batches;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------
interface Variant {
  key: Key;
  target: Target;
  ctx: Ctx;
  ack: boolean;
  result: ServerResult;
  c: RunCollector;
}

export async function runFeatures(p: Profile, scenario: ScenarioResult, isOver: () => boolean): Promise<void> {
  const users = p.fanoutSizes[0] ?? 0;
  const variants = (scenario.variants ??= {});
  const cleanup = new Cleanup();
  const cleanupErrors: string[] = [];
  const setups: Variant[] = [];
  let receiver: Receiver | undefined;
  try {
    const [shipped, noMetrics, noGuard] = (await Promise.all((['shipped', 'no-metrics', 'no-guard'] as const).map(buildServer))) as [string, string, string];
    receiver = await startReceiver();
    const r = receiver;
    cleanup.add('stop the webhook receiver', () => r.close());
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const spec: Record<Key, { entry: string; env?: Record<string, string>; ack: boolean }> = {
      shipped: { entry: shipped, ack: false },
      receipts: { entry: shipped, ack: true },
      webhooks: { entry: shipped, env: { WEBHOOK_URL: r.url, WEBHOOK_SECRET: secret }, ack: true },
      noMetrics: { entry: noMetrics, ack: false },
      noGuard: { entry: noGuard, ack: false },
    };
    const booted = await Promise.allSettled(KEYS.map((key) => startHerald({ name: `herald-${key}`, profile: false, entry: spec[key].entry, env: spec[key].env ?? {} })));
    for (const b of booted) if (b.status === 'fulfilled') cleanup.add(`stop ${b.value.proc.name}`, () => b.value.dispose());
    const failed = booted.find((b): b is PromiseRejectedResult => b.status === 'rejected');
    if (failed) throw failed.reason as Error;
    const clients: Spawned = await startHelper('features-clients', 'bench/clients.ts');
    cleanup.add('stop the simulated users', () => clients.stop(2_000));
    const loadgen: Spawned = await startHelper('features-loadgen', 'bench/loadgen.ts');
    cleanup.add('stop the load generator', () => loadgen.stop(2_000));
    cleanup.add('close the simulated users', () => clients.ipc.request({ op: 'close', timeoutMs: 15_000 }, 30_000).catch(() => undefined));
    for (const [i, key] of KEYS.entries()) {
      const target = (booted[i] as PromiseFulfilledResult<Target>).value;
      const v: Variant = { key, target, ctx: { p, target, clients, loadgen }, ack: spec[key].ack, result: (variants[key] ??= emptyServerResult()), c: new RunCollector() };
      setups.push(v);
      await connectUsers(v.ctx, 0, users, 1, v.ack);
    }
    log(`features: ${users} users on each of ${KEYS.join(', ')}`);

    const single = { users, rmin: 1, rmax: 1, concurrency: p.targetedConcurrency, mode: 'closed' } as const;
    // The three builds compared with each other do the same work in every round (pushes,
    // collapsing pushes, fan-out), so their databases grow alike: a bigger one costs more per write.
    const fans = setups.filter((v) => v.key === 'shipped' || v.key === 'noMetrics' || v.key === 'noGuard');
    for (const v of setups) {
      await warmUp(v.ctx, `features/${v.key} pushes`, () => load(v.ctx, { ...single, durationMs: p.warmupMs }));
      if (fans.includes(v)) await warmUp(v.ctx, `features/${v.key} fan-out`, () => fanoutSaturated(v.ctx, users, p.warmupMs));
    }
    const runs = p.featureRuns;
    for (let i = 0; i < runs; i++) {
      if (isOver()) {
        for (const v of setups) v.result.errors.push(`run ${i + 1} skipped: the run reached its time budget`);
        break;
      }
      // Each round starts with another variant, and every other round runs them
      // backwards, so that none always follows the same one and a drift in the
      // machine's load falls on both sides of each pair alike.
      const order = KEYS.map((_, j) => setups[(i + j) % setups.length] as Variant);
      if (i % 2 === 1) order.reverse();
      for (const v of order) {
        try {
          const events0 = receiver.events;
          const { run, us } = await meteredLoad(v, { ...single, durationMs: p.targetedMs }, `run ${i + 1}`, AFTER_RUN_MS);
          tally(v.result, run.expected, run.delivered);
          if (run.timedOut) v.result.errors.push(`run ${i + 1}: ${run.expected - run.delivered} deliveries missing after the drain timeout`);
          v.c.add('acceptedPerSec', run.notificationsPerSec, '/s');
          v.c.add('usPerNotification', us, 'µs');
          v.c.add('otherCores', run.cpu.otherCores, 'cores');
          if (v.key === 'webhooks') v.c.add('webhookEventsPerSec', (receiver.events - events0) / (p.targetedMs / 1000), '/s');
          log(`features/${v.key} pushes ${i + 1}/${runs}: ${fmt(run.notificationsPerSec)} notifications/s, ${fmt(us, 1)} µs server CPU each`);
          if (fans.includes(v)) {
            // The same pushes, each with one of 8 collapse keys per user set: a store, a collapse and a delivery per user.
            const { run: cr, us: cus } = await meteredLoad(v, { ...single, durationMs: p.targetedMs, collapse: COLLAPSE_KEYS }, `collapsing run ${i + 1}`);
            v.c.add('collapsingPerSec', cr.notificationsPerSec, '/s');
            v.c.add('usPerCollapsing', cus, 'µs');
            log(`features/${v.key} collapsing pushes ${i + 1}/${runs}: ${fmt(cr.notificationsPerSec)} notifications/s, ${fmt(cus, 1)} µs server CPU each`);
            // Plain and collapsing pushes at one rate, below both saturations, so that commits
            // carry about as many pushes each; every other round the collapsing run goes first.
            const kinds = [['usPerPlainAtRate', 0], ['usPerCollapsingAtRate', COLLAPSE_KEYS]] as const;
            for (const [key, collapse] of i % 2 === 0 ? kinds : [...kinds].reverse()) {
              const spec: LoadSpec = { ...single, mode: 'open', rate: p.collapseRatePerSec, durationMs: p.targetedMs, ...(collapse > 0 ? { collapse } : {}) };
              const { run: rr, us: rus } = await meteredLoad(v, spec, `${key} run ${i + 1}`);
              if (rr.dropped > 0) v.result.errors.push(`${key} run ${i + 1}: ${rr.dropped} pushes dropped, the server fell behind ${p.collapseRatePerSec}/s`);
              v.c.add(key, rus, 'µs');
              log(`features/${v.key} ${collapse > 0 ? 'collapsing' : 'plain'} pushes at ${p.collapseRatePerSec}/s ${i + 1}/${runs}: ${fmt(rus, 1)} µs server CPU each`);
            }
          }
          if (fans.includes(v)) {
            const f = await fanoutSaturated(v.ctx, users, p.fanoutMs);
            tally(v.result, f.expected, f.delivered);
            if (f.timedOut) v.result.errors.push(`fan-out run ${i + 1}: rounds still incomplete after the drain timeout`);
            v.c.add('fanoutUsPerDelivery', f.cpu.serverUs / f.delivered, 'µs');
            v.c.add('fanoutDeliveriesPerSec', f.perSec, '/s');
            log(`features/${v.key} fan-out ${i + 1}/${runs}: ${fmt(f.perSec)} deliveries/s, ${fmt(f.cpu.serverUs / f.delivered, 2)} µs server CPU each (window ${windowFor(p, users)})`);
          }
        } catch (err) {
          v.result.errors.push(`run ${i + 1}: ${(err as Error).message}`);
        }
      }
    }
    const st = await stats(clients);
    if (st.disconnects > 0) setups[0]?.result.errors.push(`${st.disconnects} simulated users were disconnected during the scenario`);
    const hooks = setups.find((v) => v.key === 'webhooks');
    hooks?.result.notes.push(`the receiver got ${receiver.events.toLocaleString('en-US')} events in ${receiver.batches.toLocaleString('en-US')} batches`);
    if (hooks && receiver.events === 0) hooks.result.errors.push('no webhook event reached the receiver: receipts did not flow');
  } finally {
    for (const v of setups) v.c.into(v.result);
    await cleanup.run(cleanupErrors);
    for (const e of cleanupErrors) (variants.shipped ??= emptyServerResult()).errors.push(`cleanup: ${e}`);
  }
}

/**
 * One load on `v`, metered: the run, and its server CPU per notification read
 * `afterMs` after the load ends. An answer other than 202 is an error of the
 * run named `what`.
 */
async function meteredLoad(v: Variant, spec: LoadSpec, what: string, afterMs = 0): Promise<{ run: LoadRun; us: number }> {
  const meter = new CpuMeter([v.target.proc.pid]);
  const run = await load(v.ctx, spec);
  if (afterMs > 0) await sleep(afterMs);
  const us = (meter.read().cpuUs.get(v.target.proc.pid) ?? NaN) / run.notifications;
  const bad = Object.entries(run.statuses).filter(([code]) => code !== '202');
  if (bad.length > 0) v.result.errors.push(`${what}: answers ${JSON.stringify(Object.fromEntries(bad))}`);
  return { run, us };
}

// ---------------------------------------------------------------------------
// Goals
// ---------------------------------------------------------------------------
/**
 * A ratio of one variant's figure over another's, both from this run, with the
 * spreads. When both have a figure from every round, the ratio is the median of
 * the per-round ratios: the two sides of a round run minutes apart at most, so
 * the machine's slower and faster spells cancel out of each. Otherwise it is the
 * ratio of the medians.
 */
function pair(s: ScenarioResult | undefined, num: Key, den: Key, key: string, denKey = key): { ratio: number; text: string } {
  const a = s?.variants?.[num]?.metrics[key];
  const b = s?.variants?.[den]?.metrics[denKey];
  if (!a || !b || a.runs.length === 0 || b.runs.length === 0 || !(b.median > 0)) return { ratio: NaN, text: 'not measured' };
  const digits = a.unit === '/s' ? 0 : 2;
  const spread = (m: typeof a) => `${fmt(m.median, digits)}${m.runs.length > 1 ? ` (${fmt(m.min, digits)}–${fmt(m.max, digits)})` : ''}`;
  const unit = a.unit === '/s' ? '/s' : ` ${a.unit}`;
  const medians = `${spread(a)} against ${spread(b)}${unit}`;
  if (a.runs.length === b.runs.length && a.runs.length > 1) {
    const ratios = a.runs.map((x, i) => x / (b.runs[i] ?? NaN)).sort((x, y) => x - y);
    const ratio = median(ratios);
    const range = `${(ratios[0] ?? NaN).toFixed(3)}–${(ratios[ratios.length - 1] ?? NaN).toFixed(3)}`;
    return { ratio, text: `${ratio.toFixed(3)}× (median of ${ratios.length} rounds’ ratios, ${range}; ${medians})` };
  }
  return { ratio: a.median / b.median, text: `${(a.median / b.median).toFixed(2)}× (${medians})` };
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** The three on/off goals of issues 20, 21 and 22, and issue 23's collapse cost, judged on the features scenario. */
export function featureGoals(s: ScenarioResult | undefined): Goal[] {
  const notRun = s?.notMeasured;
  const errors = KEYS.flatMap((k) => s?.variants?.[k]?.errors ?? []);
  const lost = KEYS.reduce((a, k) => a + (s?.variants?.[k]?.lost ?? 0), 0);
  const clean = errors.length === 0 && lost === 0;
  const judge = (ratio: number, ok: (r: number) => boolean) => (Number.isFinite(ratio) ? ok(ratio) && clean : null);
  const trouble = clean ? [] : [`${errors.length} error(s), ${lost} lost in the features scenario (see its table)`];
  const webhooks = pair(s, 'webhooks', 'receipts', 'acceptedPerSec');
  const receipts = pair(s, 'receipts', 'shipped', 'acceptedPerSec');
  const us = (k: Key) => s?.variants?.[k]?.metrics.usPerNotification?.median ?? NaN;
  const receiptUs = us('receipts') - us('shipped');
  const webhookUs = us('webhooks') - us('receipts');
  const metrics = pair(s, 'shipped', 'noMetrics', 'acceptedPerSec');
  const metricsUs = pair(s, 'shipped', 'noMetrics', 'usPerNotification');
  const guard = pair(s, 'shipped', 'noGuard', 'fanoutUsPerDelivery');
  const collapse = pair(s, 'shipped', 'shipped', 'usPerCollapsingAtRate', 'usPerPlainAtRate');
  const collapseSaturated = pair(s, 'shipped', 'shipped', 'usPerCollapsing', 'usPerNotification');
  const collapseRate = pair(s, 'shipped', 'shipped', 'collapsingPerSec', 'acceptedPerSec');
  return [
    {
      goal: 'with webhooks on (a receiver in the harness, users acknowledging), single-recipient pushes against the same with webhooks off',
      target: '≥ 0.85× webhooks off, same run',
      measured: notRun ?? webhooks.text,
      met: judge(webhooks.ratio, (r) => r >= 0.85),
      bound: [
        ...trouble,
        `writing receipts costs ${fmt(receiptUs, 1)} µs of server CPU per push (users acknowledging against not: ${fmt(us('receipts'), 1)} against ${fmt(us('shipped'), 1)} µs; throughput ${receipts.text})`,
        `webhooks add ${fmt(webhookUs, 1)} µs per push (the outbox event in the receipt's commit, the batch and its signed POST)`,
      ].join('; '),
    },
    {
      goal: 'with metrics on (as shipped), single-recipient pushes against a bench build with prom-client replaced by no-ops',
      target: '≥ 0.97× metrics off, same run',
      measured: notRun ?? metrics.text,
      met: judge(metrics.ratio, (r) => r >= 0.97),
      bound: [...trouble, `server CPU per notification ${metricsUs.text}`].join('; '),
    },
    {
      goal: 'the slow-consumer guard (per-write check and sweep): fan-out server CPU per delivery against a bench build without it',
      target: '≤ 1.02× guard off, same run',
      measured: notRun ?? guard.text,
      met: judge(guard.ratio, (r) => r <= 1.02),
      bound: [...trouble, 'CPU per delivery moves by a few per cent from run to run on this machine: read the spreads beside the ratio'].join('; '),
    },
    {
      goal: 'a collapsing push (issue 23: one of 8 keys, nearly every one merged into an unread item) against a plain push, server CPU per notification, both at one fixed rate',
      target: '≤ 1.3× a plain push, same run',
      measured: notRun ?? collapse.text,
      met: judge(collapse.ratio, (r) => r <= 1.3),
      bound: [
        ...trouble,
        `each at its own saturation, CPU ${collapseSaturated.text} and throughput ${collapseRate.text} a plain push's: there a commit carries more pushes the faster they come, so the slower kind pays more per push for that too`,
        "the embedded inbox collapses in the push's own commit: the group's head taken out of the pending deliveries (or its delivery row deleted, once merged), a change row, the group upserted",
      ].join('; '),
    },
  ];
}
