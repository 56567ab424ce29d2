/** The shape of bench/results/latest.json, and small helpers to fill it. */

/** `rawc`: raw ws writing as Herald does, a socket's frames of one turn in one write (the stronger floor). */
export type ServerKind = 'herald' | 'bare' | 'raw' | 'rawc';
export const SERVER_KINDS: ServerKind[] = ['herald', 'bare', 'raw', 'rawc'];
export const SERVER_LABELS: Record<ServerKind, string> = {
  herald: 'Herald',
  bare: 'bare socket.io',
  raw: 'raw ws',
  rawc: 'raw ws, coalescing',
};
/** The references Herald is compared with, in table order. */
export const REFERENCE_KINDS = SERVER_KINDS.filter((k): k is Exclude<ServerKind, 'herald'> => k !== 'herald');
/** Short names for the ratio columns. */
export const RATIO_LABELS: Record<Exclude<ServerKind, 'herald'>, string> = { bare: 'Herald/bare', raw: 'Herald/raw', rawc: 'Herald/raw-c' };

export interface Metric {
  median: number;
  min: number;
  max: number;
  /** One value per successful run. */
  runs: number[];
  unit: string;
}

export interface ServerResult {
  metrics: Record<string, Metric>;
  /** Messages the server should have delivered over all runs, and what arrived. */
  expected: number;
  delivered: number;
  lost: number;
  errors: string[];
  notes: string[];
}

export interface RowSpec {
  key: string;
  label: string;
  /** Which way is good, for reading the ratio columns. */
  better: 'higher' | 'lower' | 'none';
}

export interface ScenarioResult {
  title: string;
  /** What was done, in a sentence or two. */
  method: string;
  rows: RowSpec[];
  servers: Partial<Record<ServerKind, ServerResult>>;
  /** Set when the scenario was not run at all. */
  notMeasured?: string;
  /**
   * Scenarios that compare configurations of Herald rather than servers (the
   * cluster): one column per variant, results in `variants`, and ratio columns
   * between them. `servers` stays empty.
   */
  columns?: Array<{ key: string; label: string }>;
  variants?: Record<string, ServerResult>;
  ratios?: Array<{ label: string; num: string; den: string }>;
}

export interface SweepPoint {
  fraction: number;
  offeredPerSec: number;
  achievedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  lost: number;
}

export interface Goal {
  goal: string;
  target: string;
  measured: string;
  /** null: not measured, or (with `untestable`) not testable on this machine. */
  met: boolean | null;
  bound?: string;
  /** Why the goal cannot be judged here, though it was measured as far as the machine allows. */
  untestable?: string;
}

export interface BenchResults {
  version: 1;
  mode: 'full' | 'quick' | 'smoke';
  startedAt: string;
  durationS: number;
  machine: {
    cores: number;
    cpuModel: string;
    node: string;
    os: string;
    memGiB: number;
    fdLimit: number;
    loadAvgAtStart: number[];
    /** Share of the machine's CPU time the hypervisor took during the run (absent before it was measured). */
    stealShare?: number;
  };
  config: Record<string, unknown>;
  /** Herald's code for this run (absent in results from before this field existed). */
  herald?: { commit: string; dirty: boolean; hash: string; hashAtEnd: string };
  scenarios: Record<string, ScenarioResult>;
  sweep: { scenario: string; unit: string; servers: Partial<Record<ServerKind, SweepPoint[]>> };
  goals: Goal[];
  processes: {
    groups: number[];
    leftAlive: number[];
    /** Private redis-server processes the cluster scenario started (absent before it existed). */
    redis?: Array<{ pid: number; port: number }>;
  };
  /** PostgreSQL schemas the cluster scenario created, and those still there at the end (should be none). */
  schemas?: { created: string[]; leftBehind: string[] };
  warnings: string[];
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

export function metric(runs: number[], unit: string): Metric {
  const finite = runs.filter((x) => Number.isFinite(x));
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : NaN,
    max: finite.length ? Math.max(...finite) : NaN,
    runs: finite,
    unit,
  };
}

export function emptyServerResult(): ServerResult {
  return { metrics: {}, expected: 0, delivered: 0, lost: 0, errors: [], notes: [] };
}

/** Collects per-run values for a server, then turns them into metrics. */
export class RunCollector {
  private readonly values = new Map<string, { unit: string; runs: number[] }>();
  add(key: string, value: number, unit: string): void {
    let entry = this.values.get(key);
    if (!entry) this.values.set(key, (entry = { unit, runs: [] }));
    entry.runs.push(value);
  }
  into(result: ServerResult): void {
    for (const [key, { unit, runs }] of this.values) result.metrics[key] = metric(runs, unit);
  }
}
