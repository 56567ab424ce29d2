import { PerformanceObserver, constants } from 'node:perf_hooks';

/** Garbage collections of one process since it started watching, and their pauses. */
export interface GcCounts {
  /** Mark-compact collections of the whole heap. */
  major: number;
  /** Their main-thread pauses, summed (ms); the concurrent marking before each is not in it. */
  majorMs: number;
  /** Scavenges of the young generation. */
  minor: number;
  minorMs: number;
}

/**
 * Counts this process's garbage collections from now on, from the `gc` entries
 * of node:perf_hooks, and returns a reader of the running totals. Loaded into
 * each server under test (bench/probe.ts for Herald, bench/servers/common.ts
 * for the references), so that a run can say how many major GCs fell inside it:
 * on two cores, one decides a short run's p99 (docs/benchmarks.md).
 *
 * Entries arrive a little after the collection (the observer is called from the
 * event loop), so a reader asked right after a run may miss a collection made in
 * its last milliseconds; the harness reads after the run has drained and settled.
 */
export function watchGc(): () => GcCounts {
  const counts: GcCounts = { major: 0, majorMs: 0, minor: 0, minorMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } | null }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        counts.major++;
        counts.majorMs += entry.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        counts.minor++;
        counts.minorMs += entry.duration;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => ({ ...counts });
}

/** What happened between two readings. */
export function gcBetween(before: GcCounts, after: GcCounts): GcCounts {
  return {
    major: after.major - before.major,
    majorMs: after.majorMs - before.majorMs,
    minor: after.minor - before.minor,
    minorMs: after.minorMs - before.minorMs,
  };
}
