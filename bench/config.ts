import { fileURLToPath } from 'node:url';

/** What the harness runs with: paths, secrets, the three profiles and the bounds on every wait. */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const AUTH_SECRET = 'bench-auth-secret-bench-auth-secret-0123456789';
export const PUSH_KEY = 'bench-push-key-0123456789abcdef';
export const SOCKET_PATH = '/socket.io';

// ---------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------
export interface Profile {
  mode: 'full' | 'quick' | 'smoke';
  runs: number;
  /**
   * Rounds of the features scenario. Its on/off ratios are a few per cent, near
   * the run-to-run noise, so it takes more rounds than the other scenarios and
   * judges the median of the per-round ratios (bench/features.ts).
   */
  featureRuns: number;
  /** Fan-out sizes; the first is also the user count of the targeted and 100-recipient scenarios. */
  fanoutSizes: number[];
  fanoutMs: number;
  /** Fan-out rounds in flight at saturation, at least (see PUSHES_IN_FLIGHT). */
  window: number;
  targetedMs: number;
  /**
   * The rate (pushes/s, open loop) at which the features scenario compares a
   * collapsing push's CPU with a plain push's. Both kinds run at it, below either's
   * saturation: at saturation a commit carries more pushes the faster they come,
   * so CPU per push falls with throughput, and the slower kind would look dearer
   * for that alone (docs/benchmarks.md).
   */
  collapseRatePerSec: number;
  /**
   * Pushes in flight in the closed loops. Little's law: a loop of C connections
   * reaches at most C / (time per push), and that time includes a commit on the
   * inbox writer thread, so too few connections measure the loop, not the server
   * (docs/benchmarks.md gives the figures each choice rests on). A backend pushing
   * this fast has this many in flight anyway.
   */
  targetedConcurrency: number;
  idlePushes: number;
  idleGapMs: number;
  r100Ms: number;
  r100Concurrency: number;
  connections: number;
  connHoldFirstMs: number;
  connHoldMs: number;
  catchupMissed: number;
  /** Each run of the cluster scenario (per setup and phase). */
  clusterMs: number;
  /** The scale scenario (bench/scale.ts): sockets, one user each, over `scaleNodes` Herald nodes. */
  scaleSockets: number;
  scaleNodes: number;
  /** How long every socket is held, with pushes going on. */
  scaleHoldMs: number;
  /** Pushes per second during the hold, each to 1,000 random users (all of them, when fewer). */
  scalePushesPerSec: number;
  sweepFractions: number[];
  sweepMs: number;
  /** Unmeasured load before a scenario's first run, so JIT warm-up is not in the figures. */
  warmupMs: number;
  /** Stop starting scenarios past this. */
  budgetMs: number;
}

export const PROFILES: Record<Profile['mode'], Profile> = {
  full: {
    mode: 'full',
    runs: 3,
    featureRuns: 7,
    fanoutSizes: [1000, 5000],
    fanoutMs: 2000,
    window: 4,
    targetedMs: 3000,
    collapseRatePerSec: 2500,
    targetedConcurrency: 256,
    idlePushes: 200,
    idleGapMs: 5,
    r100Ms: 2000,
    r100Concurrency: 96,
    connections: 20_000,
    connHoldFirstMs: 60_000,
    connHoldMs: 5_000,
    catchupMissed: 500,
    clusterMs: 2000,
    scaleSockets: 60_000,
    scaleNodes: 4,
    scaleHoldMs: 300_000,
    scalePushesPerSec: 10,
    sweepFractions: [0.2, 0.4, 0.6, 0.8, 0.95],
    sweepMs: 1500,
    warmupMs: 1000,
    budgetMs: 960_000,
  },
  quick: {
    mode: 'quick',
    runs: 1,
    featureRuns: 3,
    fanoutSizes: [1000, 2000],
    fanoutMs: 1000,
    window: 4,
    targetedMs: 1500,
    collapseRatePerSec: 2500,
    targetedConcurrency: 256,
    idlePushes: 50,
    idleGapMs: 5,
    r100Ms: 1000,
    r100Concurrency: 96,
    connections: 2000,
    connHoldFirstMs: 3000,
    connHoldMs: 3000,
    catchupMissed: 500,
    clusterMs: 1000,
    scaleSockets: 4_000,
    scaleNodes: 4,
    scaleHoldMs: 10_000,
    scalePushesPerSec: 10,
    sweepFractions: [0.25, 0.5, 0.9],
    sweepMs: 800,
    warmupMs: 500,
    budgetMs: 170_000,
  },
  smoke: {
    mode: 'smoke',
    runs: 1,
    featureRuns: 1,
    fanoutSizes: [20, 40],
    fanoutMs: 300,
    window: 2,
    targetedMs: 300,
    collapseRatePerSec: 50,
    targetedConcurrency: 4,
    idlePushes: 5,
    idleGapMs: 5,
    r100Ms: 300,
    r100Concurrency: 2,
    connections: 20,
    connHoldFirstMs: 300,
    connHoldMs: 300,
    catchupMissed: 20,
    clusterMs: 200,
    scaleSockets: 40,
    scaleNodes: 2,
    scaleHoldMs: 500,
    scalePushesPerSec: 10,
    sweepFractions: [0.5],
    sweepMs: 300,
    warmupMs: 0,
    budgetMs: 200_000,
  },
};

/**
 * Fan-out saturation keeps at least this many pushes' worth of rounds in flight
 * (a busy backend pushes concurrently; Herald's group commit batches them).
 */
export const PUSHES_IN_FLIGHT = 16;
/** How long to wait for the last messages of a run once sending stopped. */
export const DRAIN_TIMEOUT_MS = 15_000;
/** Open-loop fan-out: rounds sent but not yet complete beyond this are skipped (the server fell behind). */
export const MAX_OPEN_BACKLOG_ROUNDS = 50;
export const BOOT_TIMEOUT_MS = 90_000;
/** Longest wait for a server's deferred storage work (Herald's merge backlog) between runs. */
export const SETTLE_TIMEOUT_MS = 120_000;
export const IPC_TIMEOUT_MS = 10_000;
/** Sockets a client process holds at most (each process has its own open-file limit). */
export const SOCKETS_PER_CLIENT_PROCESS = 10_000;
/** File descriptors a server keeps for itself beyond its sockets. */
export const FD_HEADROOM = 64;
/** Tabs per user in the connection scenario. */
export const CONNECTION_TABS = 2;

