import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`, which `--profile` turns on
 * for Herald): self time by area (Next, socket.io stack, SQLite, zod, Herald's
 * own lib/, GC, Node internals) and the hottest functions.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8/native (program)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) {
    const pkg = m[1] ?? '?';
    if (/^(socket\.io|engine\.io|socket\.io-adapter|socket\.io-parser|ws)$/.test(pkg)) return 'socket.io stack (socket.io, engine.io, ws)';
    return pkg;
  }
  if (url.startsWith('node:')) return 'Node core';
  if (url.includes('/.next/')) return 'Next build output (.next)';
  if (/\/lib\//.test(url)) return "Herald's lib/";
  if (url === '') return 'native';
  return path.basename(url);
}

export function summarizeProfile(file: string, top = 15): string {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const area = areaOf(n.callFrame.url, n.callFrame.functionName);
    if (area === 'idle') continue;
    busy += us;
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '')}:${n.callFrame.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
  const lines = [
    `CPU profile ${path.basename(file)}: ${(busy / 1e6).toFixed(2)} s of main-thread samples, idle excluded`,
    '(V8 samples the thread while it is blocked in a synchronous call too: a SQLite commit waiting on fsync counts here)',
    '',
    'self time by area:',
  ];
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1])) lines.push(`  ${pct(us)}  ${a}`);
  lines.push('', `hottest functions (self time):`);
  for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${f}`);
  return lines.join('\n') + '\n';
}

/** The newest main-thread .cpuprofile in a directory (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile, thread 0). */
export function newestProfile(dir: string): string | undefined {
  try {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0')
      .map((f) => path.join(dir, f));
    return files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  } catch {
    return undefined;
  }
}
