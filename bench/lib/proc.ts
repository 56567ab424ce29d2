import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { IpcClient } from './ipc';

/**
 * Child processes of the harness, and what /proc says about them.
 *
 * Every child is started through `bash -c 'ulimit -n hard; exec node …'` in a
 * process group of its own (detached), so `kill(-pgid)` also takes the
 * grandchildren (tsx's esbuild service). Every group is remembered and killed on
 * exit, error or signal.
 */

export interface Spawned {
  name: string;
  pid: number;
  child: ChildProcess;
  ipc: IpcClient;
  logs: string[];
  exited: Promise<number | null>;
  /** Resolves when the child's IPC side is listening (its first `hello` event). */
  hello: Promise<void>;
  /** SIGTERM, wait up to `graceMs`, then SIGKILL the whole group and wait until it is gone. */
  stop(graceMs?: number): Promise<void>;
}

const groups = new Set<number>();
/** Every process group ever started, for the report and the smoke test. */
export const startedGroups: number[] = [];

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  cwd: string;
  /** Node flags before `--import tsx`. */
  nodeArgs?: string[];
  /** Modules to `--import` after tsx (TypeScript allowed). */
  imports?: string[];
}

const MAX_LOG_LINES = 200;

/** PATH and HOME plus `extra`, without undefined values: what every child starts with. */
function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...extra })) {
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** Remembers a detached child's process group (for cleanup and the leftover check) and keeps its last log lines. */
function trackGroup(name: string, child: ChildProcess): { pid: number; logs: string[] } {
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: spawn failed`);
  groups.add(pid);
  startedGroups.push(pid);
  const logs: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue;
      logs.push(line);
      if (logs.length > MAX_LOG_LINES) logs.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { pid, logs };
}

export function spawnNode(name: string, script: string, opts: SpawnOptions): Spawned {
  const env = childEnv(opts.env);
  const child = spawn(
    'bash',
    [
      '-c',
      'ulimit -n hard 2>/dev/null; exec "$@"',
      'bash',
      process.execPath,
      ...(opts.nodeArgs ?? []),
      // TypeScript scripts (the reference servers, the load generators) run through tsx; Herald runs compiled.
      ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []),
      ...(opts.imports ?? []).flatMap((m) => ['--import', m]),
      script,
    ],
    { cwd: opts.cwd, env: env as NodeJS.ProcessEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  const { pid, logs } = trackGroup(name, child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ipc = new IpcClient(child, name);
  const hello = new Promise<void>((resolve, reject) => {
    const off = ipc.onEvent((m) => {
      if (m.type === 'hello') {
        off();
        resolve();
      }
    });
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${logs.slice(-20).join('\n')}`)));
  });
  hello.catch(() => undefined);
  const stop = async (graceMs = 5_000): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGTERM');
      } catch {
        // already gone
      }
      // A cleared timer: a pending grace sleep would keep the orchestrator alive after its work is done.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs)))]);
      clearTimeout(grace);
    }
    killGroup(pid);
    await waitGroupGone(pid, 5_000);
    groups.delete(pid);
  };
  return { name, pid, child, ipc, logs, exited, hello, stop };
}

/** A non-Node child in a process group of its own (e.g. redis-server under a watchdog shell). */
export interface SpawnedCommand {
  name: string;
  /** The process group (the first process's pid). */
  pid: number;
  child: ChildProcess;
  logs: string[];
  exited: Promise<number | null>;
  /** SIGKILL the whole group and wait until it is gone. */
  stop(): Promise<void>;
}

/**
 * Starts `command args…` detached in a process group of its own, remembered with
 * the others: killed by killAllChildren() on exit, error or signal, and listed in
 * startedGroups for the leftover check.
 */
export function spawnCommand(name: string, command: string, args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }): SpawnedCommand {
  const env = childEnv(opts.env);
  const child = spawn(command, args, { cwd: opts.cwd, env: env as NodeJS.ProcessEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const { pid, logs } = trackGroup(name, child);
  child.on('error', (err) => logs.push(`spawn error: ${err.message}`));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<void> => {
    killGroup(pid);
    await waitGroupGone(pid, 5_000);
    groups.delete(pid);
  };
  return { name, pid, child, logs, exited, stop };
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // no such group: already gone
  }
}

/** Synchronous: usable from process.on('exit'). */
export function killAllChildren(): void {
  for (const pgid of groups) killGroup(pgid);
  groups.clear();
}

/** Processes still alive in any of these process groups (zombies excluded). */
export function aliveInGroups(pgids: Iterable<number>): number[] {
  const wanted = new Set(pgids);
  const alive: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && wanted.has(stat.pgrp) && stat.state !== 'Z') alive.push(Number(entry));
  }
  return alive;
}

async function waitGroupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (aliveInGroups([pgid]).length === 0) return;
    await sleep(25);
  }
}

// ---------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------
let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  // 100 on every Linux we care about
}

interface Stat {
  state: string;
  pgrp: number;
  /** user + system CPU time, µs. */
  cpuUs: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { state: fields[0] ?? '?', pgrp: Number(fields[2]), cpuUs: ((utime + stime) * 1e6) / clockTicks };
}

/** CPU time (user + system, all threads) a process has used so far, µs. */
export function cpuUs(pid: number): number {
  return readStat(pid)?.cpuUs ?? NaN;
}

function statusField(pid: number, field: string): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

export const rssKiB = (pid: number): number => statusField(pid, 'VmRSS');
export const peakRssKiB = (pid: number): number => statusField(pid, 'VmHWM');

/**
 * Starts a process's peak RSS (VmHWM) over from its current RSS, so that a later
 * peakRssKiB reads the peak of what happened in between. Linux's `clear_refs`
 * with 5; false where that cannot be written (another user's process, no /proc).
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

export function fdLimit(pid: number | 'self'): number {
  try {
    const text = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
    return m?.[1] === 'unlimited' ? Infinity : Number(m?.[1]);
  } catch {
    return NaN;
  }
}

/**
 * Whole-machine CPU counters (jiffies from /proc/stat): busy (user, nice, system,
 * irq, softirq), steal (time the hypervisor ran something else while this
 * machine's vCPUs wanted to run) and total. guest and guest_nice are already
 * inside user and nice, so they are not added again.
 */
export interface MachineCpu {
  busy: number;
  steal: number;
  total: number;
}

export function parseProcStat(text: string): MachineCpu {
  const line = text.split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  return { busy: user + nice + system + irq + softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

export function machineCpu(): MachineCpu {
  return parseProcStat(readFileSync('/proc/stat', 'utf8'));
}

/** Cores' worth of machine CPU used (busy) and taken by the hypervisor (steal) between two machineCpu() samples. */
export function machineCores(a: MachineCpu, b: MachineCpu, cores = cpus().length): { busy: number; steal: number } {
  const total = b.total - a.total;
  if (!(total > 0)) return { busy: NaN, steal: NaN };
  return { busy: ((b.busy - a.busy) / total) * cores, steal: ((b.steal - a.steal) / total) * cores };
}

/**
 * The main thread's scheduler counters (ns): time on a CPU, and time runnable
 * but waiting for one. The second is how much CPU contention from the rest of
 * the machine delayed the event loop.
 */
export function mainThreadSched(pid: number): { runNs: number; waitNs: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { runNs: run ?? NaN, waitNs: wait ?? NaN };
  } catch {
    return { runNs: NaN, waitNs: NaN };
  }
}

/** A CPU stopwatch over several processes. */
export class CpuMeter {
  private readonly start = new Map<number, number>();
  private readonly sched = new Map<number, { runNs: number; waitNs: number }>();
  private readonly t0 = performance.now();
  private readonly m0 = machineCpu();
  constructor(private readonly pids: number[]) {
    for (const pid of pids) {
      this.start.set(pid, cpuUs(pid));
      this.sched.set(pid, mainThreadSched(pid));
    }
  }
  /**
   * µs of CPU each process used since construction (all threads), the share of
   * wall time each main thread ran and waited for a CPU, and the wall time.
   */
  read(): {
    cpuUs: Map<number, number>;
    mainRun: Map<number, number>;
    mainWait: Map<number, number>;
    wallMs: number;
    machineCores: number;
    stolenCores: number;
  } {
    const wallMs = performance.now() - this.t0;
    const cpu = new Map<number, number>();
    const run = new Map<number, number>();
    const wait = new Map<number, number>();
    for (const pid of this.pids) {
      cpu.set(pid, cpuUs(pid) - (this.start.get(pid) ?? NaN));
      const a = this.sched.get(pid);
      const b = mainThreadSched(pid);
      run.set(pid, (b.runNs - (a?.runNs ?? NaN)) / 1e6 / wallMs);
      wait.set(pid, (b.waitNs - (a?.waitNs ?? NaN)) / 1e6 / wallMs);
    }
    const machine = machineCores(this.m0, machineCpu());
    return { cpuUs: cpu, mainRun: run, mainWait: wait, wallMs, machineCores: machine.busy, stolenCores: machine.steal };
  }
}

// ---------------------------------------------------------------------------
// misc
// ---------------------------------------------------------------------------
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A free TCP port on 127.0.0.1 (closed again before it is used: a small race we accept). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Rejects after `ms` with a message naming what timed out. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Wall clock in ms with a fraction, comparable across processes on this machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();
