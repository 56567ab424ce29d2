import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MAX_RECIPIENTS_PER_PUSH } from '../lib/contract';
import { addSqliteReference, clusterState, emptyCluster, runCluster } from './cluster';
import { HANDOVERS, runTabs, TABS } from './tabs';
import { CONNECTION_TABS, FD_HEADROOM, PROFILES, ROOT, type Profile } from './config';
import { goals } from './goals';
import { log } from './lib/log';
import { aliveInGroups, fdLimit, killAllChildren, machineCores, machineCpu, sleep, startedGroups, type Spawned } from './lib/proc';
import {
  emptyServerResult,
  SERVER_KINDS,
  SERVER_LABELS,
  type BenchResults,
  type ScenarioResult,
  type ServerKind,
  type ServerResult,
} from './lib/results';
import { createdSchemas, dropSchemasSync, existingSchemas } from './lib/services';
import { newestProfile, summarizeProfile } from './profile';
import { emptyScale, runScale } from './scale';
import { emptyFeatures, runFeatures } from './features';
import { renderMarkdown, renderSvg } from './report';
import {
  CATCHUP_ROWS,
  CONNECTION_ROWS,
  connectUsers,
  FANOUT_ROWS,
  R100_ROWS,
  runCatchup,
  runConnections,
  runFanout,
  runR100,
  runSweep,
  runTargeted,
  stats,
  TARGETED_ROWS,
  windowFor,
  type Ctx,
} from './scenarios';
import { heraldState, removeDataDirsSync, startHelper, startTarget } from './targets';

/**
 * `npm run bench`: Herald (the real server.ts in production mode, real push API,
 * real SQLite inbox) against a bare socket.io server and a raw `ws` server, one
 * at a time, on 127.0.0.1. Flags: --quick, --smoke, --out <dir>,
 * --servers herald,bare,raw, --scenarios fanout,targeted,r100,connections,catchup,cluster,features,tabs,scale, --scale,
 * --profile, --data-parent <dir>, --window <rounds>, --hold <s>, --rerender
 * (see bench/README.md).
 *
 * Processes: this orchestrator; the server under test; the simulated users
 * (bench/clients.ts, two processes for the connection scenario); the HTTP load
 * generator (bench/loadgen.ts, Herald only); for the cluster scenario
 * (bench/cluster.ts), three Herald nodes and a private redis-server, with fresh
 * PostgreSQL schemas; for the features scenario (bench/features.ts), five Herald
 * processes; for the scale scenario (bench/scale.ts), `scaleNodes` Herald nodes,
 * a private redis-server, a schema and several client processes. All are killed
 * (and the schemas dropped) on exit, error or signal.
 */

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------
interface Args {
  profile: Profile;
  outDir: string;
  servers: ServerKind[];
  scenarios: Set<string>;
  /** Where Herald's temporary DATA_DIR is made (e.g. /dev/shm to take the disk out). */
  dataParent: string;
  /** Run Herald under `node --cpu-prof` and summarize the profile. */
  cpuProfile: boolean;
  /** Only re-render latest.md, latency.svg and the goals from an existing latest.json. */
  rerender: boolean;
  /** Use dist/ and .next/ as they are: the test suite builds them once, and a rebuild would pull dist/ from under its other servers. */
  prebuilt: boolean;
}

function parseArgs(argv: string[]): Args {
  let mode: Profile['mode'] = 'full';
  let outDir = path.join(ROOT, 'bench', 'results');
  let servers: ServerKind[] = [...SERVER_KINDS];
  let scenarios = new Set(['catchup', 'fanout', 'targeted', 'r100', 'cluster', 'features', 'connections', 'tabs']);
  let dataParent = tmpdir();
  let cpuProfile = false;
  let rerender = false;
  let prebuilt = false;
  let windowOverride = NaN;
  let holdOverride = NaN;
  let scale = false;
  const scaleOverrides: Partial<Pick<Profile, 'scaleSockets' | 'scaleNodes' | 'scaleHoldMs'>> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') mode = 'quick';
    else if (a === '--smoke') mode = 'smoke';
    else if (a === '--out') outDir = path.resolve(argv[++i] ?? outDir);
    else if (a === '--servers') servers = (argv[++i] ?? '').split(',').filter((s): s is ServerKind => (SERVER_KINDS as string[]).includes(s));
    else if (a === '--scenarios') scenarios = new Set((argv[++i] ?? '').split(','));
    else if (a === '--data-parent') dataParent = path.resolve(argv[++i] ?? dataParent);
    else if (a === '--profile') cpuProfile = true;
    else if (a === '--rerender') rerender = true;
    else if (a === '--prebuilt') prebuilt = true;
    else if (a === '--window') windowOverride = Number(argv[++i]);
    else if (a === '--hold') holdOverride = Number(argv[++i]) * 1000;
    else if (a === '--scale') scale = true;
    else if (a === '--scale-sockets') scaleOverrides.scaleSockets = positiveInt(a, argv[++i]);
    else if (a === '--scale-nodes') scaleOverrides.scaleNodes = positiveInt(a, argv[++i]);
    else if (a === '--scale-hold') scaleOverrides.scaleHoldMs = positiveInt(a, argv[++i]) * 1000;
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: tsx bench/run.ts [--quick|--smoke] [--out DIR] [--servers herald,bare,raw] ' +
          '[--scenarios catchup,fanout,targeted,r100,cluster,features,connections,tabs,scale] [--scale [--scale-sockets N] [--scale-nodes N] [--scale-hold SECONDS]] ' +
          '[--data-parent DIR] [--profile] [--window ROUNDS] [--hold SECONDS] [--rerender] [--prebuilt]',
      );
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  // The smoke run (part of npm test) leaves out the tabs scenario unless asked: sixteen Chromium tabs cost a minute.
  if (mode === 'smoke' && !argv.includes('--scenarios')) scenarios.delete('tabs');
  // The scale scenario takes minutes at full size: only with --scale, and in the smoke run (tiny N) so that npm test covers it.
  if (scale || (mode === 'smoke' && !argv.includes('--scenarios'))) scenarios.add('scale');
  const profile = { ...PROFILES[mode], ...scaleOverrides };
  if (windowOverride > 0) profile.window = windowOverride;
  if (holdOverride > 0) profile.connHoldFirstMs = holdOverride;
  return { profile, outDir, servers, scenarios, dataParent, cpuProfile, rerender, prebuilt };
}

function positiveInt(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`${flag} takes a positive whole number, not ${String(value)}`);
    process.exit(2);
  }
  return n;
}

// ---------------------------------------------------------------------------
// One server's message scenarios
// ---------------------------------------------------------------------------
async function runMessagePhase(
  kind: ServerKind,
  p: Profile,
  scenarios: Set<string>,
  results: Record<string, ScenarioResult>,
  sweep: BenchResults['sweep'],
  isOver: () => boolean,
  warnings: string[],
): Promise<void> {
  const target = await startTarget(kind);
  let clients: Spawned | undefined;
  let loadgen: Spawned | undefined;
  const acceptedBefore = heraldState.accepted;
  try {
    clients = await startHelper('clients', 'bench/clients.ts');
    if (kind === 'herald') loadgen = await startHelper('loadgen', 'bench/loadgen.ts');
    const ctx: Ctx = { p, target, clients, loadgen };
    const slot = (key: string): ServerResult => {
      const s = results[key];
      if (!s) throw new Error(`no scenario ${key}`);
      const r = (s.servers[kind] ??= emptyServerResult());
      return r;
    };
    const skip = (key: string) => {
      slot(key).errors.push('skipped: the run reached its time budget');
    };

    if (scenarios.has('catchup')) {
      if (kind !== 'herald') slot('catchup').notes.push('no storage: nothing to catch up');
      else if (isOver()) skip('catchup');
      else await runCatchup(ctx, slot('catchup'));
    }

    const [n1, n2] = p.fanoutSizes as [number, number];
    const users = n1;
    await connectUsers(ctx, 0, n1);
    log(`${kind}: ${n1} users connected`);
    if (scenarios.has('fanout')) {
      if (isOver()) skip(`fanout-${n1}`);
      else {
        const sat = await runFanout(ctx, n1, slot(`fanout-${n1}`));
        if (Number.isFinite(sat) && !isOver()) sweep.servers[kind] = await runSweep(ctx, n1, sat);
      }
    }
    if (scenarios.has('targeted')) {
      if (isOver()) skip('targeted');
      else await runTargeted(ctx, users, slot('targeted'));
    }
    if (scenarios.has('r100')) {
      if (isOver()) skip('recipients-100');
      else await runR100(ctx, users, slot('recipients-100'));
    }
    if (scenarios.has('fanout')) {
      if (isOver()) skip(`fanout-${n2}`);
      else {
        await connectUsers(ctx, n1, n2 - n1);
        log(`${kind}: ${n2} users connected`);
        await runFanout(ctx, n2, slot(`fanout-${n2}`));
      }
    }
    const s = await stats(clients);
    if (s.disconnects > 0) warnings.push(`${SERVER_LABELS[kind]}: ${s.disconnects} simulated users were disconnected during the message scenarios`);
    await clients.ipc.request({ op: 'close', timeoutMs: 15_000 }, 30_000).catch(() => undefined);
  } finally {
    await clients?.stop(2_000);
    await loadgen?.stop(2_000);
    await target.stop();
    if (kind === 'herald' && heraldState.profileDir) {
      const file = newestProfile(heraldState.profileDir);
      if (file) {
        const summary = summarizeProfile(file);
        writeFileSync(file.replace(/\.cpuprofile$/, '.txt'), summary);
        log(`Herald CPU profile (message scenarios):\n${summary}`);
      } else {
        warnings.push('--profile: Herald wrote no CPU profile');
      }
    }
    if (kind === 'herald' && target.dataDir) {
      checkStored(target.dataDir, heraldState.accepted - acceptedBefore, results, warnings);
      rmSync(target.dataDir, { recursive: true, force: true });
    }
  }
}

/** After Herald stopped: every push answered 202 must be in the inbox. */
function checkStored(dataDir: string, accepted: number, results: Record<string, ScenarioResult>, warnings: string[]): void {
  try {
    const db = new Database(path.join(dataDir, 'herald.db'), { readonly: true });
    const stored = (db.prepare('SELECT COUNT(*) AS n FROM notifications').get() as { n: number }).n;
    db.close();
    const note = `stored: ${stored.toLocaleString('en-US')} notifications in the inbox after shutdown for ${accepted.toLocaleString('en-US')} pushes answered 202 over the whole Herald run`;
    results.targeted?.servers.herald?.notes.push(note);
    if (stored < accepted) warnings.push(`Herald lost stored notifications: ${note}`);
  } catch (err) {
    warnings.push(`could not read Herald's inbox after the run: ${(err as Error).message}`);
  }
}

/** A Herald-only scenario: marked not run (and why), or run, a failure leaving it "not measured" with a warning. */
async function heraldScenario(
  args: Args,
  key: string,
  scenario: ScenarioResult,
  title: string,
  isOver: () => boolean,
  warnings: string[],
  run: () => Promise<void>,
): Promise<void> {
  if (!args.scenarios.has(key)) scenario.notMeasured = `not run: \`--scenarios\` without \`${key}\``;
  else if (!args.servers.includes('herald')) scenario.notMeasured = 'not run: `--servers` without `herald`';
  else if (isOver()) scenario.notMeasured = 'not run: the run reached its time budget';
  else {
    log(`=== Herald: ${title}`);
    try {
      await run();
    } catch (err) {
      const msg = (err as Error).message;
      scenario.notMeasured = `not measured: the ${key} scenario could not run: ${msg.split('\n')[0] ?? ''}`;
      warnings.push(`${key} scenario aborted: ${msg}`);
      log(`${key} scenario aborted: ${(err as Error).stack ?? String(err)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------
/** The pages (`next build`, when missing) and the compiled server (always: it takes half a second), as `npm run build` makes them. */
function ensureBuild(): void {
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  if (!existsSync(path.join(ROOT, '.next', 'BUILD_ID'))) {
    log('no .next/BUILD_ID: running `npx next build` first');
    const r = spawnSync('npx', ['next', 'build'], { cwd: ROOT, stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`next build failed (${r.status})`);
  }
  const r = spawnSync('npx', ['tsup', '--silent'], { cwd: ROOT, stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`building the server failed (${r.status})`);
}

function emptyScenarios(p: Profile): Record<string, ScenarioResult> {
  const [n1, n2] = p.fanoutSizes as [number, number];
  const fan = (n: number): ScenarioResult => ({
    title: `Fan-out: one notification to ${n.toLocaleString('en-US')} online users`,
    method:
      `Saturation: ${windowFor(p, n)} rounds in flight for ${p.fanoutMs / 1000} s, the next round sent when one has reached every socket; ` +
      `Herald gets ${Math.ceil(n / MAX_RECIPIENTS_PER_PUSH)} HTTP push(es) of ≤ ${MAX_RECIPIENTS_PER_PUSH} recipients per round (stored, then one emit to many rooms), ` +
      'the references one emit to every socket, ordered over IPC. Then an open loop at half the saturation rate for latency ' +
      '(push stamped when scheduled → received). Server CPU from /proc (user + system, all threads).',
    rows: FANOUT_ROWS,
    servers: {},
  });
  return {
    [`fanout-${n1}`]: fan(n1),
    [`fanout-${n2}`]: fan(n2),
    targeted: {
      title: 'Targeted: a stream of pushes to 1–3 users each',
      method:
        `${n1.toLocaleString('en-US')} users online (one tab each). Herald: POST /api/push from the load generator process over ${p.targetedConcurrency} keep-alive ` +
        `connections (closed loop for ${p.targetedMs / 1000} s = saturation; then an open loop at half that rate; then ${p.idlePushes} sequential single-recipient pushes ` +
        `${p.idleGapMs} ms apart = idle). References: the same stream generated inside the server process (no HTTP, no storage), stamped at emit.`,
      rows: TARGETED_ROWS,
      servers: {},
    },
    'recipients-100': {
      title: 'Pushes to 100 recipients each',
      method: `${n1.toLocaleString('en-US')} users online; each push names 100 random distinct users. Herald: closed loop over ${p.r100Concurrency} keep-alive connections for ${p.r100Ms / 1000} s; references: generated in-process as fast as they go.`,
      rows: R100_ROWS,
      servers: {},
    },
    connections: {
      title: `Connections: ${p.connections.toLocaleString('en-US')} sockets held`,
      method:
        `${CONNECTION_TABS} tabs per user, opened ${64} handshakes at a time per client process (Herald: JWT verified, inbox summary read, notifications:synced received). ` +
        `First run held ${p.connHoldFirstMs / 1000} s, the others ${p.connHoldMs / 1000} s. RSS from /proc and V8 heap after a forced GC, before connecting and at the end of the hold.`,
      rows: CONNECTION_ROWS,
      servers: {},
    },
    catchup: {
      title: `Catch-up: a user returns to ${p.catchupMissed} missed notifications`,
      method: `${p.catchupMissed} pushes to an offline user, then one socket connects with lastSeq 0; time from opening the WebSocket until the last replayed notification arrives.`,
      rows: CATCHUP_ROWS,
      servers: {},
    },
    cluster: emptyCluster(p),
    features: emptyFeatures(p),
    scale: emptyScale(p),
    tabs: {
      title: `Tabs: one user with ${TABS} tabs open in one browser profile`,
      method:
        `Real Chromium opens Herald's page ${TABS} times in one context and signs each tab in as the same user; the sockets the server holds once the count has held still for a second. ` +
        'Shared: the page as it is (one leader tab holds the connection). One per tab: the same page without BroadcastChannel, so each tab connects on its own, as every tab did before. ' +
        `Then, shared only, the leader tab is closed ${HANDOVERS} times in a row and the handover timed on the machine clock, from the close until another tab holds the leader lock.`,
      rows: [
        { key: 'sockets', label: 'sockets the server holds for the user', better: 'lower' },
        { key: 'handoverMs', label: `leader tab closed: until another tab holds the connection's lock (${HANDOVERS} closes)`, better: 'none' },
      ],
      servers: {},
      columns: [
        { key: 'shared', label: 'shared (one leader tab)' },
        { key: 'perTab', label: 'one per tab' },
      ],
      variants: {},
      ratios: [{ label: 'shared/per tab', num: 'shared', den: 'perTab' }],
    },
  };
}

/**
 * What Herald's code was: the commit, whether the tree was dirty, and a hash of
 * the sources the server runs. Taken at the start and the end, so a run during
 * which someone edited Herald says so.
 */
function heraldSource(): { commit: string; dirty: boolean; hash: string } {
  const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const hash = createHash('sha256');
  const walk = (rel: string) => {
    const abs = path.join(ROOT, rel);
    if (!existsSync(abs)) return;
    if (statSync(abs).isDirectory()) {
      for (const e of readdirSync(abs).sort()) if (!e.endsWith('.test.ts') && e !== 'node_modules') walk(path.join(rel, e));
    } else if (/\.(ts|tsx|js|mjs|json)$/.test(rel)) {
      hash.update(rel).update(readFileSync(abs));
    }
  };
  for (const rel of ['server.ts', 'lib', 'app', 'next.config.js', 'package.json']) walk(rel);
  return { commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown', dirty: git(['status', '--porcelain', '--', 'lib', 'app', 'server.ts']) !== '', hash: hash.digest('hex').slice(0, 12) };
}

/** Writes latest.md and latency.svg (and recomputes the goals) from an existing latest.json. */
function rerender(outDir: string): void {
  const file = path.join(outDir, 'latest.json');
  const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  results.goals = goals(results, results.config as unknown as Profile);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(path.join(outDir, 'latest.md'), renderMarkdown(results));
  writeFileSync(path.join(outDir, 'latency.svg'), renderSvg(results.sweep));
  log(`re-rendered ${path.join(outDir, 'latest.md')} from ${file}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.rerender) {
    rerender(args.outDir);
    return;
  }
  const p = args.profile;
  heraldState.dataParent = args.dataParent;
  if (args.cpuProfile) heraldState.profileDir = path.join(args.outDir, 'profiles');
  const started = new Date();
  const deadline = Date.now() + p.budgetMs;
  const isOver = () => Date.now() > deadline;
  if (!args.prebuilt) ensureBuild();
  const sourceAtStart = heraldSource();
  const cpuList = cpus();
  const warnings: string[] = [];
  const scenarios = emptyScenarios(p);
  const sweep: BenchResults['sweep'] = {
    scenario: `Fan-out to ${(p.fanoutSizes[0] ?? 0).toLocaleString('en-US')} users`,
    unit: 'deliveries/s',
    servers: {},
  };
  log(`mode ${p.mode}, ${p.runs} run(s) per figure, servers ${args.servers.join(', ')}; output in ${args.outDir}`);
  if (fdLimit('self') < p.connections + FD_HEADROOM) {
    warnings.push(
      `the open-file limit here is ${fdLimit('self')} per process (and cannot be raised without CAP_SYS_RESOURCE), so a server cannot hold ${p.connections.toLocaleString('en-US')} sockets; the connection scenario holds as many as fit`,
    );
  }
  warnings.push(
    `this machine has ${cpuList.length} cores shared by the server, the simulated users, the load generator and whatever else runs on it ` +
      '(the rows "other load on the machine" and "CPU taken by the hypervisor" say how much that was): absolute numbers are noisy; compare columns of the same run.',
  );

  for (const kind of args.servers) {
    const wanted = ['catchup', 'fanout', 'targeted', 'r100'].some((s) => args.scenarios.has(s));
    if (wanted && !isOver()) {
      log(`=== ${SERVER_LABELS[kind]}: message scenarios`);
      try {
        await runMessagePhase(kind, p, args.scenarios, scenarios, sweep, isOver, warnings);
      } catch (err) {
        warnings.push(`${SERVER_LABELS[kind]}: message scenarios aborted: ${(err as Error).message}`);
        log(`${kind} message scenarios aborted: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }
  // The cluster: Herald only, after the message scenarios (their SQLite figures are its reference column).
  const cluster = scenarios.cluster as ScenarioResult;
  await heraldScenario(args, 'cluster', cluster, 'cluster (two nodes with Redis) against one node', isOver, warnings, () => runCluster(p, cluster, isOver, warnings));
  if (!cluster.notMeasured) addSqliteReference(scenarios);
  const features = scenarios.features as ScenarioResult;
  await heraldScenario(args, 'features', features, 'features on and off (receipts, webhooks, metrics, the slow-consumer guard)', isOver, warnings, () =>
    runFeatures(p, features, isOver),
  );

  const tabs = scenarios.tabs as ScenarioResult;
  if (!args.scenarios.has('tabs')) tabs.notMeasured = 'not run: `--scenarios` without `tabs`';
  else if (!args.servers.includes('herald')) tabs.notMeasured = 'not run: `--servers` without `herald`';
  else if (isOver()) tabs.notMeasured = 'not run: the run reached its time budget';
  else {
    log(`=== Herald: ${TABS} tabs of one user in Chromium`);
    try {
      await runTabs(tabs);
    } catch (err) {
      const msg = (err as Error).message;
      tabs.notMeasured = `not measured: ${msg.split('\n')[0] ?? ''}`;
      warnings.push(`tabs scenario aborted: ${msg}`);
    }
  }

  // Connections last and per server on a fresh process, so the memory baseline is clean.
  for (const kind of args.servers) {
    if (!args.scenarios.has('connections')) break;
    // The coalescing raw ws reference is the raw ws server until a message is sent: its sockets cost the same.
    if (kind === 'rawc') continue;
    const slot = (scenarios.connections?.servers ?? {})[kind] ?? emptyServerResult();
    (scenarios.connections as ScenarioResult).servers[kind] = slot;
    if (isOver()) {
      slot.errors.push('skipped: the run reached its time budget');
      continue;
    }
    log(`=== ${SERVER_LABELS[kind]}: connections`);
    try {
      await runConnections(kind, p, slot, isOver);
    } catch (err) {
      slot.errors.push((err as Error).message);
      log(`${kind} connections aborted: ${(err as Error).stack ?? String(err)}`);
    }
  }
  // Scale last: it is the longest, and every other scenario's memory figures want a quiet machine.
  // Asked for by --scale, it runs whatever the time budget.
  const scaleResult = scenarios.scale as ScenarioResult;
  await heraldScenario(args, 'scale', scaleResult, `scale (${p.scaleSockets} sockets on ${p.scaleNodes} nodes)`, () => false, warnings, () => runScale(p, scaleResult, warnings));
  if (!args.scenarios.has('scale')) scaleResult.notMeasured = 'not run: pass `--scale` (it takes minutes at full size)';
  if (heraldState.errors.size > 0) warnings.push(`Herald fan-out pushes that failed: ${JSON.stringify(Object.fromEntries(heraldState.errors))}`);

  killAllChildren();
  await sleep(200);
  const leftAlive = aliveInGroups(startedGroups);
  dropSchemasSync(ROOT);
  let schemasLeft: string[] = [];
  try {
    schemasLeft = await existingSchemas(createdSchemas);
  } catch (err) {
    if (createdSchemas.length > 0) warnings.push(`could not check that the benchmark's PostgreSQL schemas are gone: ${(err as Error).message}`);
  }
  if (schemasLeft.length > 0) warnings.push(`PostgreSQL schemas left behind: ${schemasLeft.join(', ')}`);
  const sourceAtEnd = heraldSource();
  if (sourceAtEnd.hash !== sourceAtStart.hash) {
    warnings.push(
      `Herald's source changed during this run (${sourceAtStart.hash} → ${sourceAtEnd.hash}): servers started after the change ran other code, so figures may mix versions.`,
    );
  }
  const wholeRun = machineCores(machineCpuAtStart, machineCpu(), cpuList.length);
  const stealShare = wholeRun.steal / cpuList.length;
  if (stealShare >= STEAL_WARNING_SHARE) {
    warnings.push(
      `the hypervisor took ${(stealShare * 100).toFixed(1)} % of this machine's CPU time during the run (steal time in /proc/stat: ` +
        `the host ran other guests while this one wanted to run; per scenario in the rows "CPU taken by the hypervisor"). ` +
        'Throughput and latency figures are lower and noisier than on cores of its own.',
    );
  }
  const results: BenchResults = {
    version: 1,
    mode: p.mode,
    startedAt: started.toISOString(),
    durationS: (Date.now() - started.getTime()) / 1000,
    machine: {
      cores: cpuList.length,
      cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
      node: process.version,
      os: `${osType()} ${release()}`,
      memGiB: Math.round(totalmem() / 2 ** 30),
      fdLimit: fdLimit('self'),
      loadAvgAtStart: loadAvgAtStart,
      stealShare,
    },
    config: { ...p, dataParent: heraldState.dataParent },
    herald: { ...sourceAtStart, hashAtEnd: sourceAtEnd.hash },
    scenarios,
    sweep,
    goals: [],
    processes: { groups: [...startedGroups], leftAlive, redis: clusterState.redis },
    schemas: { created: [...createdSchemas], leftBehind: schemasLeft },
    warnings,
  };
  results.goals = goals(results, p);
  mkdirSync(args.outDir, { recursive: true });
  writeFileSync(path.join(args.outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(path.join(args.outDir, 'latest.md'), renderMarkdown(results));
  writeFileSync(path.join(args.outDir, 'latency.svg'), renderSvg(sweep));
  log(`wrote ${path.join(args.outDir, 'latest.md')} (${Math.round(results.durationS)} s)`);
  for (const g of results.goals) log(`goal ${g.met === null ? '—' : g.met ? 'met' : 'NOT met'}: ${g.goal}: ${g.measured} (target ${g.target})`);
  if (leftAlive.length > 0) {
    console.error(`processes left alive: ${leftAlive.join(', ')}`);
    process.exitCode = 1;
  }
  if (schemasLeft.length > 0) {
    console.error(`PostgreSQL schemas left behind: ${schemasLeft.join(', ')}`);
    process.exitCode = 1;
  }
}

/** Steal above this share of the machine's CPU over the run is called out in the results. */
const STEAL_WARNING_SHARE = 0.02;
const loadAvgAtStart = loadavg();
const machineCpuAtStart = machineCpu();

// Children first (a killed node's session releases its locks), then any schema still there.
process.on('exit', () => {
  killAllChildren();
  dropSchemasSync(ROOT);
  removeDataDirsSync();
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping every process the benchmark started`);
    killAllChildren();
    process.exit(130);
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  killAllChildren();
  process.exit(1);
});
