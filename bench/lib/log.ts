/** Progress lines on stdout, stamped with seconds since the harness started, and number formatting. */

const t0 = Date.now();
export const log = (msg: string) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
export const fmt = (v: number, digits = 0) =>
  Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—';
