import {
  RATIO_LABELS,
  REFERENCE_KINDS,
  SERVER_KINDS,
  SERVER_LABELS,
  type BenchResults,
  type Metric,
  type ServerKind,
  type SweepPoint,
} from './lib/results';

/** Renders latest.md and latency.svg from the results. */

/** A spread wider than this share of the median is flagged. */
const WIDE_SPREAD = 0.25;

function fmtNumber(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '—';
  if (unit === '/s' || unit === 'sockets' || unit === 'count') return Math.round(v).toLocaleString('en-US');
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return v.toFixed(digits);
}

function fmtMetric(m: Metric | undefined): string {
  if (!m || m.runs.length === 0) return '—';
  const mid = fmtNumber(m.median, m.unit);
  if (m.runs.length === 1) return `${mid}`;
  const wide = m.median !== 0 && (m.max - m.min) / Math.abs(m.median) > WIDE_SPREAD;
  return `${mid} (${fmtNumber(m.min, m.unit)}–${fmtNumber(m.max, m.unit)})${wide ? ' ‡' : ''}`;
}

function ratio(a: Metric | undefined, b: Metric | undefined): string {
  if (!a || !b || !Number.isFinite(a.median) || !Number.isFinite(b.median) || b.median === 0) return '—';
  return `${(a.median / b.median).toFixed(2)}×`;
}

const escape = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
/** First line of a message, bounded (the JSON keeps the whole text). */
const oneLine = (s: string) => {
  const line = s.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
};

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push('# Herald benchmark: latest results', '');
  out.push(
    `Run ${r.startedAt} (\`${r.mode}\` mode, ${Math.round(r.durationS)} s) on ${m.cores} cores (${m.cpuModel}), ` +
      `Node ${m.node}, ${m.os}, ${m.memGiB} GiB RAM, open-file limit ${m.fdLimit}. ` +
      `Load average when the run started: ${m.loadAvgAtStart.map((x) => x.toFixed(2)).join(' / ')}.` +
      (m.stealShare !== undefined ? ` CPU time taken by the hypervisor during the run (steal): ${(m.stealShare * 100).toFixed(1)} %.` : '') +
      (r.herald ? ` Herald at commit ${r.herald.commit}${r.herald.dirty ? ' with uncommitted changes' : ''} (sources ${r.herald.hash}).` : ''),
    '',
  );
  out.push(
    'Every figure is the median of the runs, with the min–max spread in brackets (‡: spread wider than ' +
      `${WIDE_SPREAD * 100} % of the median). Server, simulated users and load generator share the same machine ` +
      'and run one server at a time; "other load" notes how much CPU the rest of the machine used meanwhile. ' +
      'Regenerate with `npm run bench` (this file, `latest.json` and `latency.svg`).',
    '',
  );
  for (const w of r.warnings) out.push(`> **Note:** ${oneLine(w)}`, '');

  out.push('## Goals', '', '| goal | target | measured (Herald) | met | what bounds it |', '|---|---|---|---|---|');
  for (const g of r.goals) {
    const met = g.met === null ? (g.untestable ? 'cannot be tested here' : 'not measured') : g.met ? '**met**' : '**not met**';
    const why = g.untestable ?? (g.met === null ? '' : (g.bound ?? ''));
    out.push(`| ${escape(g.goal)} | ${escape(g.target)} | ${escape(g.measured)} | ${met} | ${escape(why)} |`);
  }
  out.push('');

  for (const [key, s] of Object.entries(r.scenarios)) {
    out.push(`## ${s.title}`, '');
    if (s.notMeasured) {
      out.push(`${s.notMeasured}`, '');
      continue;
    }
    out.push(s.method, '');
    if (s.columns) {
      renderVariants(out, key, s);
      continue;
    }
    const present = SERVER_KINDS.filter((k) => s.servers[k]);
    out.push(
      `| \`${key}\` | ${SERVER_KINDS.map((k) => SERVER_LABELS[k]).join(' | ')} | ${REFERENCE_KINDS.map((k) => RATIO_LABELS[k]).join(' | ')} |`,
      `|---|${[...SERVER_KINDS, ...REFERENCE_KINDS].map(() => '---').join('|')}|`,
    );
    for (const row of s.rows) {
      const cells = SERVER_KINDS.map((k) => fmtMetric(s.servers[k]?.metrics[row.key]));
      const h = s.servers.herald?.metrics[row.key];
      const unit = [h, ...REFERENCE_KINDS.map((k) => s.servers[k]?.metrics[row.key])].find((m) => m)?.unit ?? '';
      const label = unit && unit !== 'count' ? `${row.label} (${unit})` : row.label;
      const ratios = REFERENCE_KINDS.map((k) => (row.better === 'none' ? '' : ratio(h, s.servers[k]?.metrics[row.key])));
      out.push(`| ${label} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
    }
    const lossCells = SERVER_KINDS.map((k) => {
      const sr = s.servers[k];
      if (!sr) return '—';
      if (sr.expected === 0) return 'n/a';
      return `${sr.delivered.toLocaleString('en-US')} / ${sr.expected.toLocaleString('en-US')}${sr.lost > 0 ? ` (**${sr.lost} lost**)` : ''}`;
    });
    out.push(`| delivered / expected (all runs) | ${[...lossCells, ...REFERENCE_KINDS.map(() => '')].join(' | ')} |`, '');
    for (const k of present) {
      const sr = s.servers[k];
      if (!sr) continue;
      for (const n of sr.notes) out.push(`- ${SERVER_LABELS[k]}: ${oneLine(n)}`);
      for (const e of sr.errors) out.push(`- ${SERVER_LABELS[k]}: **error:** ${oneLine(e)}`);
    }
    out.push('');
  }

  out.push('## Latency against offered load', '');
  out.push(
    `![push-to-receive latency p50 and p99 against offered load](latency.svg)`,
    '',
    `${r.sweep.scenario}: open-loop fan-out rounds at fractions of each server's own saturation rate, one short run per point.`,
    '',
    '| server | offered (deliveries/s) | achieved | p50 ms | p99 ms | max ms |',
    '|---|---|---|---|---|---|',
  );
  for (const k of SERVER_KINDS) {
    for (const p of r.sweep.servers[k] ?? []) {
      out.push(
        `| ${SERVER_LABELS[k]} | ${Math.round(p.offeredPerSec).toLocaleString('en-US')} | ${Math.round(p.achievedPerSec).toLocaleString('en-US')} | ${p.p50Ms.toFixed(2)} | ${p.p99Ms.toFixed(2)} | ${p.maxMs.toFixed(1)} |`,
      );
    }
  }
  out.push('');
  return out.join('\n');
}

/** A scenario comparing configurations of Herald (the cluster): one column per variant, then the ratios. */
function renderVariants(out: string[], key: string, s: BenchResults['scenarios'][string]): void {
  const columns = s.columns ?? [];
  const ratios = s.ratios ?? [];
  const v = s.variants ?? {};
  out.push(
    `| \`${key}\` | ${[...columns.map((c) => c.label), ...ratios.map((r) => r.label)].join(' | ')} |`,
    `|---|${[...columns, ...ratios].map(() => '---').join('|')}|`,
  );
  for (const row of s.rows) {
    const metrics = columns.map((c) => v[c.key]?.metrics[row.key]);
    if (metrics.every((m) => !m || m.runs.length === 0)) continue;
    const unit = metrics.find((m) => m)?.unit ?? '';
    const label = unit && unit !== 'count' ? `${row.label} (${unit})` : row.label;
    const cells = metrics.map((m) => fmtMetric(m));
    const ratioCells = ratios.map((r) => (row.better === 'none' ? '' : ratio(v[r.num]?.metrics[row.key], v[r.den]?.metrics[row.key])));
    out.push(`| ${label} | ${[...cells, ...ratioCells].join(' | ')} |`);
  }
  const lossCells = columns.map((c) => {
    const sr = v[c.key];
    if (!sr) return '—';
    if (sr.expected === 0) return 'n/a';
    return `${sr.delivered.toLocaleString('en-US')} / ${sr.expected.toLocaleString('en-US')}${sr.lost > 0 ? ` (**${sr.lost} lost**)` : ''}`;
  });
  out.push(`| delivered / expected (all runs) | ${[...lossCells, ...ratios.map(() => '')].join(' | ')} |`, '');
  for (const c of columns) {
    const sr = v[c.key];
    if (!sr) continue;
    for (const n of sr.notes) out.push(`- ${c.label}: ${oneLine(n)}`);
    for (const e of sr.errors) out.push(`- ${c.label}: **error:** ${oneLine(e)}`);
  }
  out.push('');
}

// ---------------------------------------------------------------------------
// SVG chart
// ---------------------------------------------------------------------------
const COLORS: Record<ServerKind, string> = { herald: '#c0392b', bare: '#1f77b4', raw: '#2ca02c', rawc: '#8c564b' };

function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function renderSvg(sweep: BenchResults['sweep']): string {
  const W = 760;
  const H = 440;
  const left = 70;
  const right = 45;
  const top = 50;
  const bottom = 60;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const all: SweepPoint[] = SERVER_KINDS.flatMap((k) => sweep.servers[k] ?? []);
  const finite = (x: number) => Number.isFinite(x) && x > 0;
  const xMax = niceCeil(Math.max(1, ...all.map((p) => p.offeredPerSec).filter(finite)));
  const yVals = all.flatMap((p) => [p.p50Ms, p.p99Ms]).filter(finite);
  const yMinExp = Math.floor(Math.log10(Math.min(1, ...yVals)));
  const yMaxExp = Math.max(yMinExp + 2, Math.ceil(Math.log10(Math.max(10, ...yVals))));
  const x = (v: number) => left + (v / xMax) * pw;
  const y = (ms: number) => top + ph - ((Math.log10(Math.max(ms, Math.pow(10, yMinExp))) - yMinExp) / (yMaxExp - yMinExp)) * ph;
  const e: string[] = [];
  e.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${sweep.scenario}: push-to-receive latency against offered load</text>`,
  );
  // grid and axes
  for (let ex = yMinExp; ex <= yMaxExp; ex++) {
    const v = Math.pow(10, ex);
    const yy = y(v).toFixed(1);
    e.push(`<line x1="${left}" y1="${yy}" x2="${W - right}" y2="${yy}" stroke="#ddd"/>`);
    e.push(`<text x="${left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">${v >= 1 ? v : v.toFixed(-ex)} ms</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const v = (xMax / 5) * i;
    const xx = x(v).toFixed(1);
    e.push(`<line x1="${xx}" y1="${top}" x2="${xx}" y2="${top + ph}" stroke="#eee"/>`);
    e.push(`<text x="${xx}" y="${top + ph + 18}" text-anchor="middle">${Math.round(v).toLocaleString('en-US')}</text>`);
  }
  e.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  e.push(`<text x="${left + pw / 2}" y="${H - 18}" text-anchor="middle">offered load (deliveries/s)</text>`);
  e.push(
    `<text x="18" y="${top + ph / 2}" text-anchor="middle" transform="rotate(-90 18 ${top + ph / 2})">latency (ms, log scale)</text>`,
  );
  // series
  const shown = SERVER_KINDS.filter((k) => (sweep.servers[k] ?? []).length > 0).length;
  if (shown > 0) {
    e.push(`<rect x="${left + 6}" y="${top + 6}" width="240" height="${shown * 18 + 8}" fill="#fff" fill-opacity="0.85" stroke="#ccc"/>`);
  }
  let legendY = top + 18;
  for (const k of SERVER_KINDS) {
    const pts = (sweep.servers[k] ?? []).filter((p) => finite(p.offeredPerSec)).sort((a, b) => a.offeredPerSec - b.offeredPerSec);
    if (pts.length === 0) continue;
    for (const [field, dash] of [
      ['p50Ms', ''],
      ['p99Ms', ' stroke-dasharray="6 4"'],
    ] as const) {
      const usable = pts.filter((p) => finite(p[field]));
      if (usable.length === 0) continue;
      const d = usable.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.offeredPerSec).toFixed(1)},${y(p[field]).toFixed(1)}`).join(' ');
      e.push(`<path d="${d}" fill="none" stroke="${COLORS[k]}" stroke-width="2"${dash}/>`);
      for (const p of usable) {
        const cx = x(p.offeredPerSec).toFixed(1);
        const cy = y(p[field]).toFixed(1);
        e.push(
          field === 'p50Ms'
            ? `<circle cx="${cx}" cy="${cy}" r="3.5" fill="${COLORS[k]}"><title>${SERVER_LABELS[k]} p50 ${p.p50Ms.toFixed(2)} ms at ${Math.round(p.offeredPerSec)}/s</title></circle>`
            : `<rect x="${(Number(cx) - 3.5).toFixed(1)}" y="${(Number(cy) - 3.5).toFixed(1)}" width="7" height="7" fill="#fff" stroke="${COLORS[k]}" stroke-width="1.5"><title>${SERVER_LABELS[k]} p99 ${p.p99Ms.toFixed(2)} ms at ${Math.round(p.offeredPerSec)}/s</title></rect>`,
        );
      }
    }
    e.push(`<line x1="${left + 12}" y1="${legendY}" x2="${left + 40}" y2="${legendY}" stroke="${COLORS[k]}" stroke-width="2"/>`);
    e.push(`<text x="${left + 46}" y="${legendY}" dominant-baseline="middle">${SERVER_LABELS[k]} p50</text>`);
    e.push(
      `<line x1="${left + 175}" y1="${legendY}" x2="${left + 203}" y2="${legendY}" stroke="${COLORS[k]}" stroke-width="2" stroke-dasharray="6 4"/>`,
    );
    e.push(`<text x="${left + 209}" y="${legendY}" dominant-baseline="middle">p99</text>`);
    legendY += 18;
  }
  if (all.length === 0) {
    e.push(`<text x="${left + pw / 2}" y="${top + ph / 2}" text-anchor="middle" fill="#888">no data</text>`);
  }
  e.push('</svg>');
  return e.join('\n') + '\n';
}
