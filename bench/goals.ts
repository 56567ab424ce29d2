import { clusterGoal } from './cluster';
import { featureGoals } from './features';
import { scaleGoal } from './scale';
import type { Profile } from './config';
import { fmt } from './lib/log';
import { SERVER_LABELS, type BenchResults, type Goal, type Metric, type ScenarioResult, type ServerKind } from './lib/results';

/** The issue's goals, judged from a run's results, each with a first guess at what bounds it. */

// ---------------------------------------------------------------------------
// Goals
// ---------------------------------------------------------------------------

/**
 * Each run's p99 beside the major GCs Herald's process made during that run:
 * on two cores, a major GC's concurrent marking competes with everything else
 * for the CPUs, and one in a short run decides its p99 (docs/benchmarks.md).
 * Empty unless both were recorded for the same runs.
 */
export function majorGcsPerRun(p99: Metric | undefined, gcs: Metric | undefined): string {
  if (!p99 || !gcs || p99.runs.length === 0 || p99.runs.length !== gcs.runs.length) return '';
  const each = p99.runs.map((v, i) => `${fmt(v, 1)} ms (${gcs.runs[i] ?? 0})`).join(', ');
  return `; Herald's p99 in each run, with the major GCs its process made during the run: ${each}`;
}

export function goals(r: BenchResults, p: Profile): Goal[] {
  const sc = r.scenarios;
  const h = (key: string, m: string) => sc[key]?.servers.herald?.metrics[m];
  /**
   * The stronger of the two raw ws references for a figure, and its name: every goal that quotes
   * raw ws uses it (issue 26). The coalescing one writes a socket's frames of a turn in one write, as Herald does.
   */
  const raw = (key: string, m: string, better: 'higher' | 'lower' = 'higher'): Metric | undefined => rawRef(key, m, better).metric;
  const rawRef = (key: string, m: string, better: 'higher' | 'lower'): { metric: Metric | undefined; label: string } => {
    const found = (['raw', 'rawc'] as const)
      .map((k) => ({ metric: sc[key]?.servers[k]?.metrics[m], label: SERVER_LABELS[k] }))
      .filter((c): c is { metric: Metric; label: string } => c.metric !== undefined && c.metric.runs.length > 0)
      .sort((a, b) => (better === 'higher' ? b.metric.median - a.metric.median : a.metric.median - b.metric.median));
    return found[0] ?? { metric: undefined, label: SERVER_LABELS.raw };
  };
  const spread = (m: ReturnType<typeof h>, digits = 0, unit = '/s') =>
    !m || m.runs.length === 0
      ? 'not measured'
      : `${fmt(m.median, digits)}${unit}${m.runs.length > 1 ? ` (${fmt(m.min, digits)}–${fmt(m.max, digits)})` : ''}`;
  const judge = (m: ReturnType<typeof h>, ok: (v: number) => boolean) => (!m || m.runs.length === 0 ? null : ok(m.median));
  const out: Goal[] = [];
  const [, nBig] = p.fanoutSizes as [number, number];
  const scaled = p.mode === 'full' ? '' : ` [${p.mode} run: smaller N than the goal's]`;
  const med = (key: string, m: string) => h(key, m)?.median ?? NaN;
  const usage = (key: string, helper: string, floor?: number) => ({
    serverCores: med(key, 'serverCores'),
    mainRun: med(key, 'serverMainRun'),
    mainWait: med(key, 'serverMainWait'),
    helperCores: med(key, helper),
    // Everything that ran on the machine meanwhile: the server's threads, our other processes, the rest.
    machineBusy: ['serverCores', 'clientCores', 'loadgenCores', 'otherCores']
      .map((m) => med(key, m))
      .filter(Number.isFinite)
      .reduce((sum, cores) => sum + cores, 0),
    machineCores: r.machine.cores,
    stolen: med(key, 'stolenCores'),
    ...(floor !== undefined ? { floor } : {}),
  });

  // Every goal is a ratio to something measured in the same run: absolute figures on a shared
  // machine swing by half from hour to hour.
  const bare = (key: string, m: string) => sc[key]?.servers.bare?.metrics[m];
  const ratioOf = (a: Metric | undefined, b: Metric | undefined) => (a && b && a.runs.length > 0 && b.runs.length > 0 && b.median > 0 ? a.median / b.median : NaN);
  const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—');
  /** A goal on Herald's figure over a reference's, both from this run. */
  const ratioGoal = (goal: string, target: string, mine: Metric | undefined, ref: Metric | undefined, unit: string, digits: number, ok: (r: number) => boolean): Goal => {
    const r = ratioOf(mine, ref);
    return {
      goal,
      target,
      measured: mine && ref ? `${fmt(mine.median, digits)} against ${fmt(ref.median, digits)}${unit}: ${x(r)}` : 'not measured',
      met: Number.isFinite(r) ? ok(r) : null,
    };
  };

  const targeted = h('targeted', 'acceptedPerSec');
  const httpFloor = h('targeted', 'httpFloorPerSec');
  const tLost = sc.targeted?.servers.herald?.lost ?? 0;
  const tRatio = ratioOf(targeted, httpFloor);
  out.push({
    goal: 'single-recipient pushes over HTTP, accepted, stored and delivered (stream of 1–3 recipients), against plain node:http in Herald\'s process',
    target: '≥ 0.5× plain node:http requests/s, same run',
    measured: targeted && httpFloor ? `${spread(targeted)} against ${spread(httpFloor)}: ${x(tRatio)}, ${tLost} lost` : 'not measured',
    met: Number.isFinite(tRatio) ? tRatio >= 0.5 && tLost === 0 : null,
    bound: boundOf('load generator', usage('targeted', 'loadgenCores', httpFloor?.median ?? NaN)),
  });
  out.push(
    ratioGoal(
      'server CPU per single-recipient notification over HTTP, against bare socket.io (no HTTP, no storage)',
      '≤ 2× bare socket.io, same run',
      h('targeted', 'serverUsPerNotification'),
      bare('targeted', 'serverUsPerNotification'),
      ' µs',
      1,
      (r) => r <= 2,
    ),
  );
  const batchRate = h('targeted', 'batchPerSec');
  const rawTargeted = raw('targeted', 'acceptedPerSec');
  const batchRatio = batchRate && rawTargeted && rawTargeted.median > 0 ? batchRate.median / rawTargeted.median : NaN;
  out.push({
    goal: 'batch push, single-recipient items: notifications/s stored and delivered, against the stronger raw ws reference generating the same stream in its own process',
    target: '≥ 1.0× raw ws, same run',
    measured: batchRate && rawTargeted ? `${spread(batchRate)} against ${spread(rawTargeted)}: ${fmt(batchRatio, 2)}×` : 'not measured',
    met: Number.isFinite(batchRatio) ? batchRatio >= 1 : null,
    bound: `server CPU per notification ${fmt(h('targeted', 'batchUsPerNotification')?.median ?? NaN, 1)} µs batched against ${fmt(h('targeted', 'serverUsPerNotification')?.median ?? NaN, 1)} µs one per request`,
  });
  const refs = (key: string, m: string) => {
    const b = sc[key]?.servers.bare?.metrics[m]?.median;
    const w = (k: 'raw' | 'rawc') => fmt(sc[key]?.servers[k]?.metrics[m]?.median ?? NaN, 2);
    const stolen = h(key, 'halfRateStolenCores')?.median ?? NaN;
    const steal = m === 'p99Ms' && stolen >= STOLEN_CORES_WORTH_NAMING ? `; during Herald's half-rate runs ${stolenText(stolen, r.machine.cores)}` : '';
    return `same run without HTTP or storage: bare socket.io ${fmt(b ?? NaN, 2)} ms, raw ws ${w('raw')} ms, raw ws coalescing ${w('rawc')} ms (at their own half rates)${steal}`;
  };
  const tp99 = h('targeted', 'p99Ms');
  // Every accepted push waits for its commit's fsync: what a lone commit costs on this disk.
  const commitP50 = h('targeted', 'commitP50Ms')?.median ?? NaN;
  const commitP99 = h('targeted', 'commitP99Ms')?.median ?? NaN;
  const floor = Number.isFinite(commitP99)
    ? `; a lone one-row commit with synchronous = FULL beside Herald's data takes p50 ${fmt(commitP50, 2)} ms, p99 ${fmt(commitP99, 2)} ms (storage floor)`
    : '';
  const bareP99 = bare('targeted', 'p99Ms')?.median ?? NaN;
  const p99Limit = 2 * (bareP99 + commitP99);
  out.push({
    goal: 'push-to-receive p99 at half that rate',
    target: '≤ 2× (bare socket.io\'s p99 at its half rate + the storage floor\'s commit p99), same run',
    measured: `${spread(tp99, 2, ' ms')} against a limit of ${fmt(p99Limit, 2)} ms`,
    met: Number.isFinite(p99Limit) ? judge(tp99, (v) => v <= p99Limit) : null,
    bound: `${refs('targeted', 'p99Ms')}${majorGcsPerRun(tp99, h('targeted', 'halfRateMajorGcs'))}${floor}`,
  });
  const idle = h('targeted', 'idleP99Ms');
  const idleLimit = 1.5 * ((bare('targeted', 'idleP99Ms')?.median ?? NaN) + commitP99);
  out.push({
    goal: 'idle single push p99',
    target: '≤ 1.5× (bare socket.io\'s idle p99 + the storage floor\'s p99), same run',
    measured: `${spread(idle, 2, ' ms')} against a limit of ${fmt(idleLimit, 2)} ms`,
    met: Number.isFinite(idleLimit) ? judge(idle, (v) => v <= idleLimit) : null,
    bound: `${refs('targeted', 'idleP99Ms').replace(' (at their own half rates)', '')}; p50 ${fmt(h('targeted', 'idleP50Ms')?.median ?? NaN, 2)} ms${floor}`,
  });
  const r100 = h('recipients-100', 'deliveriesPerSec');
  out.push({
    goal: '100-recipient pushes',
    target: '≥ 75,000 deliveries/s',
    measured: spread(r100),
    met: judge(r100, (v) => v >= 75_000),
    bound: boundOf('simulated-user process', usage('recipients-100', 'clientCores')),
  });
  out.push({
    ...ratioGoal(
      `fan-out to ${nBig.toLocaleString('en-US')} users: deliveries/s against the stronger raw ws reference${scaled}`,
      '≥ 1.0× raw ws, same run',
      h(`fanout-${nBig}`, 'deliveriesPerSec'),
      raw(`fanout-${nBig}`, 'deliveriesPerSec'),
      '/s',
      0,
      (r) => r >= 1,
    ),
    bound: boundOf('simulated-user process', usage(`fanout-${nBig}`, 'clientCores')),
  });
  const hu = h(`fanout-${nBig}`, 'serverUsPerDelivery');
  const { metric: ru, label: ruLabel } = rawRef(`fanout-${nBig}`, 'serverUsPerDelivery', 'lower');
  const ratio = hu && ru ? hu.median / ru.median : NaN;
  out.push({
    goal: `fan-out to ${nBig.toLocaleString('en-US')}: server CPU per delivery against the stronger raw ws reference in the same run${scaled}`,
    target: '≤ 1.15× raw ws, same run',
    measured: Number.isFinite(ratio) ? `${ratio.toFixed(2)}× (Herald ${fmt(hu?.median ?? NaN, 2)} µs, ${ruLabel} ${fmt(ru?.median ?? NaN, 2)} µs)` : 'not measured',
    met: Number.isFinite(ratio) ? ratio <= 1.15 : null,
    bound: (() => {
      const bu = sc[`fanout-${nBig}`]?.servers.bare?.metrics.serverUsPerDelivery?.median ?? NaN;
      if (!hu || !ru || !Number.isFinite(bu)) return '';
      // Either difference can be negative: Herald writes frames straight to the socket, several per write.
      const than = (d: number, what: string) => `${fmt(Math.abs(d), 2)} µs ${d >= 0 ? 'more' : 'less'} per delivery than ${what}`;
      return (
        `socket.io's own emit path (bare socket.io, ${fmt(bu, 2)} µs) costs ${than(bu - ru.median, ruLabel)}; ` +
        `Herald's whole push (HTTP, validation, storage, delivery gate and its own frame writes) costs ${than(hu.median - bu, 'bare socket.io')}`
      );
    })(),
  });
  const held = h('connections', 'sockets');
  const heldFirst = held?.runs[0] ?? 0;
  const heldS = sc.connections?.servers.herald?.metrics.heldS?.runs[0] ?? 0;
  const disc = h('connections', 'disconnects');
  const wanted = p.mode === 'full' ? 20_000 : p.connections;
  const capNote = sc.connections?.servers.herald?.notes.find((n) => n.startsWith('capped at'));
  const heldOk = heldS >= 60 && (disc?.max ?? 1) === 0;
  out.push({
    goal: `${wanted.toLocaleString('en-US')} sockets held on one node for 60 s with no disconnect${scaled}`,
    target: `${wanted.toLocaleString('en-US')} sockets, 60 s, 0 disconnects`,
    measured: held ? `${fmt(heldFirst)} sockets for ${fmt(heldS, 1)} s (first run), ${fmt(disc?.max ?? NaN)} disconnects` : 'not measured',
    met: !held || (p.mode !== 'full' && heldS < 60) ? null : heldFirst >= wanted ? heldOk : capNote && heldOk ? null : false,
    ...(held && p.mode !== 'full' && heldS < 60
      ? { untestable: `a ${p.mode} run holds ${Math.round(heldS)} s; the full run holds 60 s` }
      : held && heldFirst < wanted && capNote && heldOk
        ? { untestable: `held every socket the server process may open here (${capNote})` }
        : held && heldFirst < wanted
          ? { bound: capNote ?? 'see the connections notes' }
          : {}),
  });
  const rss = h('connections', 'rssPerSocketKiB');
  const conn = (kind: ServerKind, m: string) => sc.connections?.servers[kind]?.metrics[m]?.median ?? NaN;
  out.push({
    goal: 'server RSS per socket',
    target: '≤ 10 KiB',
    measured: spread(rss, 2, ' KiB'),
    met: judge(rss, (v) => v <= 10),
    bound: `same run: bare socket.io ${fmt(conn('bare', 'rssPerSocketKiB'), 2)} KiB, raw ws ${fmt(conn('raw', 'rssPerSocketKiB'), 2)} KiB; Herald's V8 heap ${fmt(conn('herald', 'heapPerSocketKiB'), 2)} KiB per socket`,
  });
  out.push(
    ratioGoal(
      "Herald's peak RSS in the targeted scenario, against bare socket.io's",
      '≤ 1.5× bare socket.io, same run',
      h('targeted', 'peakRssMiB'),
      bare('targeted', 'peakRssMiB'),
      ' MiB',
      0,
      (r) => r <= 1.5,
    ),
  );
  out.push(busyCoreGoal(targeted, h('targeted', 'busyAcceptedPerSec'), h('targeted', 'busyP99Ms'), p99Limit, h('targeted', 'busyOtherCores')));
  const rate = h('connections', 'connectPerSec');
  out.push({
    goal: 'connect rate',
    target: '≥ 1,000/s',
    measured: spread(rate),
    met: judge(rate, (v) => v >= 1000),
    bound: `same run: bare socket.io ${fmt(conn('bare', 'connectPerSec'))}/s, raw ws ${fmt(conn('raw', 'connectPerSec'))}/s (Herald also verifies a JWT and reads the inbox summary per socket)`,
  });
  const cu = h('catchup', 'lastMs');
  out.push({
    goal: `catch-up of ${p.catchupMissed} missed notifications`,
    target: '≤ 200 ms',
    measured: spread(cu, 1, ' ms'),
    met: judge(cu, (v) => v <= 200),
  });
  out.push(redisGoal(sc.cluster, p));
  out.push(...featureGoals(sc.features));
  out.push(scaleGoal(sc.scale, p));
  return out;
}

/**
 * "With one core taken by a busy process (`yes > /dev/null`): single-recipient ≥ 0.75× the quiet
 * figure of the same invocation, and the half-rate p99 goal still met": the targeted scenario's
 * busy-core runs against its quiet ones, the p99 against the quiet goal's limit.
 */
export function busyCoreGoal(quiet: Metric | undefined, busy: Metric | undefined, busyP99: Metric | undefined, p99Limit: number, busyOther: Metric | undefined): Goal {
  const goal = 'with one core taken by a busy process: single-recipient pushes against the quiet figure of the same invocation, and the half-rate p99 goal still met';
  const target = '≥ 0.75× the quiet figure; p99 within the half-rate goal\'s limit';
  if (!quiet || !busy || quiet.runs.length === 0 || busy.runs.length === 0 || !(quiet.median > 0)) return { goal, target, measured: 'not measured', met: null };
  const ratio = busy.median / quiet.median;
  const p99 = busyP99?.median ?? NaN;
  const p99Ok = Number.isFinite(p99) && Number.isFinite(p99Limit) ? p99 <= p99Limit : null;
  return {
    goal,
    target,
    measured:
      `${fmt(busy.median)}/s against ${fmt(quiet.median)}/s: ${ratio.toFixed(2)}×; ` +
      `p99 at the busy half rate ${fmt(p99, 2)} ms against a limit of ${fmt(p99Limit, 2)} ms`,
    met: p99Ok === null ? null : ratio >= 0.75 && p99Ok,
    bound: `other load during the busy runs ${fmt(busyOther?.median ?? NaN, 2)} cores (the busy process takes about one)`,
  };
}

/** Steal (cores' worth) from which "what bounds it" names the hypervisor. */
const STOLEN_CORES_WORTH_NAMING = 0.1;

const stolenText = (stolen: number, cores: number) =>
  `the hypervisor took ${stolen.toFixed(2)} of the ${cores} cores (steal time: other guests ran instead)`;

/** A first guess at what bounds a throughput figure, from who was using the CPU and who waited for one. */
function boundOf(
  helper: 'load generator' | 'simulated-user process',
  m: {
    serverCores: number;
    mainRun: number;
    mainWait: number;
    helperCores: number;
    machineBusy: number;
    machineCores: number;
    stolen: number;
    floor?: number;
  },
): string {
  const parts: string[] = [];
  if (m.stolen >= STOLEN_CORES_WORTH_NAMING) parts.push(stolenText(m.stolen, m.machineCores));
  // Herald's inbox writer is a thread of the server: with the simulated users on the same cores, the
  // machine can be full while no single thread is.
  if (m.machineBusy >= 0.85 * m.machineCores) {
    parts.push(
      `the machine's ${m.machineCores} cores were ${Math.round((m.machineBusy / m.machineCores) * 100)} % busy ` +
        `(Herald ${m.serverCores.toFixed(2)} cores with its inbox writer thread, the ${helper} ${m.helperCores.toFixed(2)})`,
    );
  }
  if (m.mainRun + m.mainWait >= 85) {
    parts.push(
      `Herald's main thread is CPU-bound (on a CPU ${Math.round(m.mainRun)} % of the time, waiting for one ${Math.round(m.mainWait)} %; ` +
        `${m.serverCores.toFixed(2)} cores counting V8's GC helper threads)`,
    );
  } else if (m.mainWait >= 15) {
    parts.push(`the main thread spent ${Math.round(m.mainWait)} % of the time runnable but waiting for a CPU (2 shared cores)`);
  }
  if (m.helperCores >= 0.85) parts.push(`the ${helper} is CPU-bound (${m.helperCores.toFixed(2)} cores)`);
  if (m.floor !== undefined && Number.isFinite(m.floor)) parts.push(`plain node:http in the same process serves ${Math.round(m.floor).toLocaleString('en-US')} req/s`);
  if (parts.length === 0) parts.push('no process saturated a core: round trips (latency), not CPU');
  return parts.join('; ');
}


/**
 * "With the Redis adapter, ≥ 0.85× the in-memory throughput for batched pushes":
 * the cluster scenario's 100-recipient deliveries/s (push to node A, users on node B,
 * through Redis) over one node's (same PostgreSQL, socket.io's in-memory adapter),
 * measured in the same run at the same load, with nothing lost.
 */
function redisGoal(scenario: ScenarioResult | undefined, p: Profile): Goal {
  const goal = 'with the Redis adapter, batched pushes (100 recipients): cluster of 2 nodes (push to A, users on B) against one node, same PostgreSQL';
  const target = '≥ 0.85× in-memory throughput';
  const { ratio, cluster, one } = clusterGoal(scenario);
  if (!Number.isFinite(ratio) || !cluster || !one) {
    return { goal, target, measured: scenario?.notMeasured ?? 'not measured', met: null };
  }
  const users = p.fanoutSizes[0] ?? 0;
  const scaled = users < 100 ? ` [${p.mode} run: ${users} recipients per push]` : '';
  const m = (r: typeof cluster, key: string, digits = 0, unit = '/s') => {
    const x = r.metrics[key];
    if (!x || x.runs.length === 0) return '—';
    return `${fmt(x.median, digits)}${unit}${x.runs.length > 1 ? ` (${fmt(x.min, digits)}–${fmt(x.max, digits)})` : ''}`;
  };
  const lost = cluster.lost + one.lost;
  const errors = cluster.errors.length + one.errors.length;
  const usC = cluster.metrics.r100UsPerDelivery?.median ?? NaN;
  const usO = one.metrics.r100UsPerDelivery?.median ?? NaN;
  const med = (r: typeof cluster, key: string) => r.metrics[key]?.median ?? NaN;
  return {
    goal: goal + scaled,
    target,
    measured: `${ratio.toFixed(2)}× (cluster ${m(cluster, 'r100DeliveriesPerSec', 0, '')}, one node ${m(one, 'r100DeliveriesPerSec', 0, '')} deliveries/s), ${lost} lost`,
    met: ratio >= 0.85 && lost === 0 && errors === 0,
    bound: [
      ...(errors > 0 ? [`${errors} error(s) in the cluster scenario (see its table)`] : []),
      `server CPU per delivery ${fmt(usC, 2)} µs in the cluster (A + B + redis-server) against ${fmt(usO, 2)} µs on one node (${fmt(usC / usO, 2)}×)`,
      `at saturation node A used ${fmt(med(cluster, 'r100PushNodeCores'), 2)} cores, node B ${fmt(med(cluster, 'r100DeliverNodeCores'), 2)}, ` +
        `redis-server ${fmt(med(cluster, 'r100RedisCores'), 2)}; the one node ${fmt(med(one, 'r100PushNodeCores'), 2)}`,
      ...(usC > usO && ratio >= 0.85
        ? ['the cluster splits the work between two processes (HTTP and storage on A, delivery on B), so its throughput holds up on 2 cores while each delivery costs more CPU in all']
        : []),
      ...(med(one, 'r100PushNodeWait') >= 15 || med(cluster, 'r100PushNodeWait') >= 15
        ? [
            `the push node's main thread waited for a CPU ${fmt(med(cluster, 'r100PushNodeWait'))} % of the time in the cluster, ${fmt(med(one, 'r100PushNodeWait'))} % on one node (2 shared cores)`,
          ]
        : []),
    ].join('; '),
  };
}
