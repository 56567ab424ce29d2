import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { machineCores, parseProcStat, peakRssKiB, resetPeakRss, rssKiB } from './proc';

// The first line of /proc/stat: cpu user nice system idle iowait irq softirq steal guest guest_nice.
const stat = (...v: number[]) => `cpu  ${v.join(' ')}\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n`;

describe('machine CPU from /proc/stat', () => {
  it('counts steal apart from busy time, and guest time once', () => {
    expect(parseProcStat(stat(100, 10, 50, 800, 20, 5, 15, 40, 30, 3))).toEqual({
      busy: 100 + 10 + 50 + 5 + 15,
      steal: 40,
      // guest (30) and guest_nice (3) are already inside user and nice.
      total: 100 + 10 + 50 + 800 + 20 + 5 + 15 + 40,
    });
  });

  it('reads kernels that print fewer columns as no steal', () => {
    expect(parseProcStat(stat(100, 0, 50, 850))).toEqual({ busy: 150, steal: 0, total: 1000 });
  });

  it('turns two samples into cores busy and cores stolen', () => {
    const a = parseProcStat(stat(1000, 0, 0, 1000, 0, 0, 0, 0));
    // Over 400 jiffies on 2 cores: 200 busy, 100 stolen, 100 idle.
    const b = parseProcStat(stat(1150, 0, 50, 1100, 0, 0, 0, 100));
    expect(machineCores(a, b, 2)).toEqual({ busy: 1, steal: 0.5 });
  });

  it('gives NaN, not a division by zero, when no time passed', () => {
    const a = parseProcStat(stat(1, 2, 3, 4));
    const c = machineCores(a, a, 2);
    expect(c.busy).toBeNaN();
    expect(c.steal).toBeNaN();
  });
});

describe('peak RSS of a process', () => {
  it('reads the peak, and starts it over from the current RSS when reset', async () => {
    // A child that touches 200 MiB, frees it, then waits: its peak stays high, its RSS falls.
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '-e',
        "let b = Buffer.alloc(200 * 1024 * 1024, 1); b = null; gc(); process.stdout.write('ready\\n'); setTimeout(() => {}, 30000);",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout?.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`child exited (${code})`)));
      });
      const pid = child.pid as number;
      expect(peakRssKiB(pid)).toBeGreaterThan(200 * 1024);
      expect(rssKiB(pid)).toBeLessThan(150 * 1024);
      expect(resetPeakRss(pid)).toBe(true);
      expect(peakRssKiB(pid)).toBeLessThan(150 * 1024);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('says so when it cannot reset', () => {
    expect(resetPeakRss(2 ** 22 + 12345)).toBe(false);
  });
});
