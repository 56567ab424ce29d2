import { readFileSync } from 'node:fs';
import { signUserToken } from '../../lib/auth';
import type { WireNotification } from '../../lib/contract';
import { openRaw, type RawClient } from './rawSocket';
import { push, startServer, TEST_AUTH_SECRET, type TestServer } from './server';

/**
 * The soak: many sockets of many users on one real server, steady pushes, a
 * share of the sockets reconnecting (with their lastSeq) on a schedule, and an
 * exact account at the end. A push is expected at every socket of each of its
 * recipients, whether live or through catch-up after a reconnect; anything
 * missing is lost, anything seen twice is a duplicate.
 *
 * Used by scripts/soak.ts (`npm run soak`) and tests/security/soak.test.ts.
 */

export interface SoakOptions {
  sockets: number;
  users: number;
  durationMs: number;
  pushesPerSecond: number;
  /** Every this often, `reconnectFraction` of the sockets drop and come back with their lastSeq. */
  reconnectEveryMs: number;
  reconnectFraction: number;
  /** Most recipients one push names (1..this, chosen at random). */
  maxRecipients?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SoakReport {
  options: Omit<SoakOptions, 'log'>;
  pushesAccepted: number;
  pushesFailed: number;
  /** Socket-deliveries owed (each push × each socket of each recipient). */
  expected: number;
  delivered: number;
  /** Of `delivered`, how many came through catch-up after a reconnect. */
  replayed: number;
  lost: number;
  duplicated: number;
  reconnects: number;
  /** Disconnects nobody asked for (the client reconnected and caught up). */
  unexpectedDisconnects: number;
  syncResets: number;
  heraldErrors: string[];
  perSocket: { minRatio: number; medianRatio: number; socketsShort: number; worst: Array<{ socket: number; user: string; delivered: number; expected: number }> };
  latencyMs: { p50: number; p99: number; max: number; samples: number };
  serverRssMb: { start: number; end: number; peak: number; growth: number };
  durationMs: number;
  ok: boolean;
}

interface Slot {
  index: number;
  user: string;
  client?: RawClient;
  live: boolean;
  /** Set while we close it on purpose. */
  leaving: boolean;
  /** After the first visit, every (re)connect sends lastSeq. */
  connectedOnce: boolean;
  lastSeq: number;
  seen: Map<string, number>;
  onSynced?: () => void;
  reconnecting?: Promise<void>;
}

const RECEIVE = '42["receive_message",';
const SYNCED = '42["notifications:synced",';
const MAX_IN_FLIGHT_PUSHES = 200;
const CONNECT_CONCURRENCY = 100;
const SETTLE_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 102.4) / 10 : 0;
  } catch {
    return 0;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

/** Starts a server fit for a soak (production mode, no push rate limit, caps raised) and runs one. */
export async function soak(opts: SoakOptions): Promise<SoakReport> {
  const server = await startServer({
    mode: 'production',
    env: {
      PUSH_RATE_LIMIT: '0',
      MAX_CONNECTIONS_PER_IP: String(opts.sockets * 2 + 100),
      MAX_CONNECTIONS_PER_USER: String(Math.ceil(opts.sockets / opts.users) * 2 + 10),
      INBOX_MAX_PER_USER: '100000',
    },
  });
  try {
    return await runSoak(server, opts);
  } finally {
    await server.stop();
    server.cleanup();
  }
}

export async function runSoak(server: TestServer, opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const maxRecipients = Math.min(opts.maxRecipients ?? 3, opts.users);
  const ttl = Math.ceil(opts.durationMs / 1000) + 3600;
  const users = Array.from({ length: opts.users }, (_, i) => `soak-${i}`);
  const tokens = new Map<string, string>();
  for (const u of users) tokens.set(u, await signUserToken(TEST_AUTH_SECRET, u, ttl));
  const slots: Slot[] = Array.from({ length: opts.sockets }, (_, i) => ({
    index: i,
    user: users[i % opts.users]!,
    live: false,
    leaving: false,
    connectedOnce: false,
    lastSeq: 0,
    seen: new Map(),
  }));
  const slotsOf = new Map<string, Slot[]>();
  for (const s of slots) slotsOf.set(s.user, [...(slotsOf.get(s.user) ?? []), s]);

  const latencies: number[] = [];
  let delivered = 0;
  let replayed = 0;
  let duplicated = 0;
  let reconnects = 0;
  let unexpectedDisconnects = 0;
  let syncResets = 0;
  const heraldErrors: string[] = [];
  const failures: string[] = [];
  let stopping = false;

  function onFrame(slot: Slot, frame: string | Buffer): void {
    if (typeof frame !== 'string') return;
    if (frame.startsWith(RECEIVE)) {
      const n = (JSON.parse(frame.slice(2)) as [string, WireNotification & { replay?: true; data: { t?: number } }])[1];
      const count = (slot.seen.get(n.id) ?? 0) + 1;
      slot.seen.set(n.id, count);
      if (count > 1) duplicated++;
      else delivered++;
      if (n.seq > slot.lastSeq) slot.lastSeq = n.seq;
      if (n.replay) replayed++;
      else if (typeof n.data?.t === 'number') latencies.push(Date.now() - n.data.t);
    } else if (frame.startsWith(SYNCED)) {
      const synced = (JSON.parse(frame.slice(2)) as [string, { headSeq: number }])[1];
      // First visit: nothing is replayed and the head is where this socket stands.
      if (slot.lastSeq === 0) slot.lastSeq = synced.headSeq;
      slot.live = true;
      slot.onSynced?.();
    } else if (frame.startsWith('42["sync_reset",')) {
      syncResets++;
    } else if (frame.startsWith('42["herald:error",')) {
      heraldErrors.push(`${slot.user}: ${frame.slice(2, 200)}`);
    } else if (frame.startsWith('44')) {
      heraldErrors.push(`${slot.user}: connect_error ${frame.slice(2, 200)}`);
    }
  }

  async function connect(slot: Slot): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const client = await openRaw(server.url, { keep: false, onFrame: (f) => onFrame(slot, f) });
        slot.client = client;
        const synced = new Promise<void>((resolve, reject) => {
          slot.onSynced = resolve;
          void client.closed.then(() => reject(new Error('closed before synced')));
          setTimeout(() => reject(new Error('not synced within 20 s')), 20_000).unref();
        });
        const token = tokens.get(slot.user);
        client.send(`40${JSON.stringify(slot.connectedOnce ? { token, lastSeq: slot.lastSeq } : { token })}`);
        await synced;
        slot.connectedOnce = true;
        void client.closed.then(() => {
          slot.live = false;
          if (slot.leaving || stopping) return;
          // Dropped by the server or the network: come back like a browser would.
          unexpectedDisconnects++;
          slot.reconnecting = sleep(100)
            .then(() => connect(slot))
            .catch((err: unknown) => {
              failures.push(`reconnect after a drop: ${(err as Error).message}`);
            })
            .finally(() => {
              slot.reconnecting = undefined;
            });
        });
        return;
      } catch (err) {
        slot.client?.close();
        if (attempt >= 5) throw new Error(`socket ${slot.index} (${slot.user}) could not connect: ${(err as Error).message}`);
        await sleep(200 * attempt);
      }
    }
  }

  // --- connect everyone -----------------------------------------------------
  for (let i = 0; i < slots.length; i += CONNECT_CONCURRENCY) {
    await Promise.all(slots.slice(i, i + CONNECT_CONCURRENCY).map(connect));
  }
  log(`${slots.length} sockets of ${opts.users} users connected in ${Date.now() - started} ms`);
  const rssStart = rssMb(server.process.pid);
  let rssPeak = rssStart;

  // --- steady pushes ----------------------------------------------------------
  const accepted: Array<{ id: string; users: string[] }> = [];
  let inFlight = 0;
  let skipped = 0;
  const pending = new Set<Promise<void>>();
  let counter = 0;
  const sendOne = () => {
    if (inFlight >= MAX_IN_FLIGHT_PUSHES) {
      skipped++;
      return;
    }
    const k = 1 + Math.floor(Math.random() * maxRecipients);
    const chosen = new Set<string>();
    while (chosen.size < k) chosen.add(users[Math.floor(Math.random() * users.length)]!);
    const to = [...chosen];
    inFlight++;
    const p = push(server.url, { tokens: to, data: { t: Date.now(), k: counter++ } })
      .then((res) => {
        if (res.status === 202) accepted.push({ id: res.body.id as string, users: to });
        else failures.push(`${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      })
      .catch((err: unknown) => {
        failures.push((err as Error).message);
      })
      .finally(() => {
        inFlight--;
        pending.delete(p);
      });
    pending.add(p);
  };

  const tickMs = 50;
  let due = 0;
  const pusher = setInterval(() => {
    due += (opts.pushesPerSecond * tickMs) / 1000;
    while (due >= 1) {
      due--;
      sendOne();
    }
  }, tickMs);

  // --- reconnects ---------------------------------------------------------------
  const reconnectOne = async (slot: Slot) => {
    if (!slot.live || slot.reconnecting) return;
    const job = (async () => {
      slot.leaving = true;
      const client = slot.client;
      // Half close cleanly (a closed tab), half just vanish (a dropped network).
      if (Math.random() < 0.5) client?.ws.close();
      else client?.close();
      await client?.closed;
      slot.live = false;
      slot.leaving = false;
      // Away for a moment, while pushes keep coming.
      await sleep(Math.random() * Math.min(2_000, opts.reconnectEveryMs / 2));
      reconnects++;
      await connect(slot);
    })().finally(() => {
      slot.reconnecting = undefined;
    });
    slot.reconnecting = job;
    await job;
  };
  const reconnectJobs = new Set<Promise<void>>();
  const reconnector = setInterval(() => {
    const candidates = slots.filter((s) => s.live && !s.reconnecting);
    const n = Math.round(slots.length * opts.reconnectFraction);
    for (let i = 0; i < n && candidates.length > 0; i++) {
      const [slot] = candidates.splice(Math.floor(Math.random() * candidates.length), 1);
      const job = reconnectOne(slot!).catch((err: unknown) => {
        failures.push(`reconnect: ${(err as Error).message}`);
      });
      reconnectJobs.add(job);
      void job.finally(() => reconnectJobs.delete(job));
    }
  }, opts.reconnectEveryMs);

  const progressEveryMs = Math.min(60_000, Math.max(5_000, Math.floor(opts.durationMs / 10)));
  const progress = setInterval(() => {
    const rss = rssMb(server.process.pid);
    rssPeak = Math.max(rssPeak, rss);
    log(
      `${Math.round((Date.now() - started) / 1000)} s: ${accepted.length} pushes, ${delivered} delivered (${replayed} by catch-up), ${duplicated} duplicates, ${reconnects} reconnects, server RSS ${rss} MB`,
    );
  }, progressEveryMs);

  await sleep(opts.durationMs);
  clearInterval(pusher);
  clearInterval(reconnector);
  clearInterval(progress);
  await Promise.all([...pending]);
  await Promise.all([...reconnectJobs]);
  await Promise.all(slots.map((s) => s.reconnecting ?? Promise.resolve()));

  // --- settle: a marker per user, pushed last, must reach every socket -------------
  const markers = new Map<string, string>();
  for (let i = 0; i < users.length; i += 1000) {
    const chunk = users.slice(i, i + 1000);
    const res = await push(server.url, { tokens: chunk, entityType: 'soak-marker' });
    if (res.status !== 202) throw new Error(`marker push answered ${res.status}`);
    for (const u of chunk) markers.set(u, res.body.id as string);
  }
  const settleBy = Date.now() + SETTLE_TIMEOUT_MS;
  while (Date.now() < settleBy && !slots.every((s) => s.seen.has(markers.get(s.user)!))) await sleep(100);
  // Duplicates could trail the marker only by a bug; give them a moment to show.
  await sleep(500);

  // --- account ----------------------------------------------------------------------
  const expectedOf = new Map<Slot, number>();
  let expected = 0;
  let lost = 0;
  const lostSamples: string[] = [];
  for (const { id, users: to } of [...accepted, ...[...markers].map(([u, id]) => ({ id, users: [u] }))]) {
    for (const u of to) {
      for (const slot of slotsOf.get(u) ?? []) {
        expected++;
        expectedOf.set(slot, (expectedOf.get(slot) ?? 0) + 1);
        if (!slot.seen.has(id)) {
          lost++;
          if (lostSamples.length < 10) lostSamples.push(`${id} → socket ${slot.index} (${u})`);
        }
      }
    }
  }
  const ratios = slots.map((s) => {
    const owed = expectedOf.get(s) ?? 0;
    const got = [...s.seen.keys()].length;
    return { socket: s.index, user: s.user, delivered: got, expected: owed, ratio: owed === 0 ? 1 : got / owed };
  });
  const sortedRatios = [...ratios].sort((a, b) => a.ratio - b.ratio);
  const sortedLatency = Float64Array.from(latencies).sort();
  const rssEnd = rssMb(server.process.pid);
  rssPeak = Math.max(rssPeak, rssEnd);

  for (const s of slots) s.leaving = true;
  stopping = true;
  for (const s of slots) s.client?.close();

  if (lostSamples.length > 0) log(`lost, for example: ${lostSamples.join('; ')}`);
  if (failures.length > 0) log(`failures, for example: ${failures.slice(0, 5).join('; ')}`);
  if (skipped > 0) log(`${skipped} pushes not sent: ${MAX_IN_FLIGHT_PUSHES} were already in flight (the server is slower than the rate asked)`);

  const { log: _log, ...options } = opts;
  const report: SoakReport = {
    options,
    pushesAccepted: accepted.length,
    pushesFailed: failures.length,
    expected,
    delivered,
    replayed,
    lost,
    duplicated,
    reconnects,
    unexpectedDisconnects,
    syncResets,
    heraldErrors: heraldErrors.slice(0, 20),
    perSocket: {
      minRatio: Math.round((sortedRatios[0]?.ratio ?? 1) * 10_000) / 10_000,
      medianRatio: Math.round((sortedRatios[Math.floor(sortedRatios.length / 2)]?.ratio ?? 1) * 10_000) / 10_000,
      socketsShort: ratios.filter((r) => r.ratio < 1).length,
      worst: sortedRatios.slice(0, 5).map(({ ratio: _r, ...rest }) => rest),
    },
    latencyMs: { p50: percentile(sortedLatency, 50), p99: percentile(sortedLatency, 99), max: percentile(sortedLatency, 100), samples: sortedLatency.length },
    serverRssMb: { start: rssStart, end: rssEnd, peak: rssPeak, growth: Math.round((rssEnd - rssStart) * 10) / 10 },
    durationMs: Date.now() - started,
    ok: lost === 0 && duplicated === 0 && failures.length === 0 && syncResets === 0 && heraldErrors.length === 0,
  };
  return report;
}

/** The report as a few readable lines. */
export function formatReport(r: SoakReport): string {
  const pct = r.expected === 0 ? 100 : Math.round((r.delivered / r.expected) * 100_000) / 1000;
  return [
    `sockets ${r.options.sockets}, users ${r.options.users}, ${Math.round(r.options.durationMs / 1000)} s, ${r.options.pushesPerSecond} pushes/s, ${Math.round(r.options.reconnectFraction * 100)}% reconnecting every ${Math.round(r.options.reconnectEveryMs / 1000)} s`,
    `pushes accepted ${r.pushesAccepted}, failed ${r.pushesFailed}`,
    `delivered/expected ${r.delivered}/${r.expected} (${pct}%), ${r.replayed} by catch-up; lost ${r.lost}, duplicated ${r.duplicated}`,
    `per socket: min ${r.perSocket.minRatio}, median ${r.perSocket.medianRatio}, ${r.perSocket.socketsShort} socket(s) short`,
    `reconnects ${r.reconnects} planned, ${r.unexpectedDisconnects} unexpected; sync resets ${r.syncResets}; herald:error ${r.heraldErrors.length}`,
    `latency push→receive p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms (${r.latencyMs.samples} live deliveries)`,
    `server RSS ${r.serverRssMb.start} MB → ${r.serverRssMb.end} MB (peak ${r.serverRssMb.peak} MB, growth ${r.serverRssMb.growth} MB)`,
    r.ok ? 'OK: nothing lost, nothing duplicated' : 'FAILED',
  ].join('\n');
}
