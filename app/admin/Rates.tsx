'use client';

import { selectOverview } from '@/store/admin/slice';
import { useAppSelector } from '@/store/hooks';
import { formatLag, formatRate } from './format';
import { Sparkline } from './Sparkline';

/** Points the chart spans: five minutes of the server's samples. */
const CAPACITY = 150;

/** Push rate and delivery lag (p50, p99) of the answering node over the last minutes, from its ring buffer; the cluster's webhook outbox. */
export function Rates() {
  const overview = useAppSelector(selectOverview);
  const points = overview?.rates.points ?? [];
  // The chart spans what the server has kept so far, at least a minute and at most CAPACITY samples.
  const seconds = (Math.min(CAPACITY, Math.max(30, points.length)) * (overview?.rates.sampleMs ?? 2000)) / 1000;
  const minutes = seconds < 90 ? '1 min' : `${Math.round(seconds / 60)} min`;
  const last = points.at(-1);
  const pushes = points.map((p) => p.pushesPerSecond);
  const peak = Math.max(0, ...pushes);
  const p50 = points.map((p) => p.lagP50);
  const p99 = points.map((p) => p.lagP99);
  const lastLag = [...points].reverse().find((p) => p.lagP99 !== null);
  const webhooks = overview?.webhooks ?? null;
  return (
    <section className="card admin-card" aria-labelledby="rates-title">
      <div className="admin-card-head">
        <h2 id="rates-title">Rates</h2>
        <span className="muted">this node, last {minutes}</span>
      </div>
      <div className="chart">
        <div className="chart-head">
          <span className="chart-title">Pushes per second</span>
          <span className="chart-value" data-testid="rate-now">
            {formatRate(last?.pushesPerSecond ?? 0)}
          </span>
        </div>
        <Sparkline
          capacity={CAPACITY}
          series={[{ values: pushes, tone: 'a', area: true }]}
          label={`Pushes per second over the last ${minutes}: now ${formatRate(last?.pushesPerSecond ?? 0)}, peak ${formatRate(peak)}`}
        />
        <p className="chart-foot muted">peak {formatRate(peak)}/s</p>
      </div>
      <div className="chart">
        <div className="chart-head">
          <span className="chart-title">Delivery lag</span>
          <span className="chart-legend">
            <span className="legend legend-a">p50 {formatLag(lastLag?.lagP50 ?? null)}</span>
            <span className="legend legend-b">p99 {formatLag(lastLag?.lagP99 ?? null)}</span>
          </span>
        </div>
        <Sparkline
          capacity={CAPACITY}
          series={[
            { values: p99, tone: 'b' },
            { values: p50, tone: 'a' },
          ]}
          label={`Delivery lag over the last ${minutes}: p50 ${formatLag(lastLag?.lagP50 ?? null)}, p99 ${formatLag(lastLag?.lagP99 ?? null)}`}
        />
        <p className="chart-foot muted">from createdAt to the frame written to the socket; gaps: nothing delivered</p>
      </div>
      <div className="chart" data-testid="webhook-outbox">
        <div className="chart-head">
          <span className="chart-title">Webhook outbox</span>
          {webhooks ? (
            <span className={webhooks.failed > 0 ? 'chart-value outbox-failed' : 'chart-value'}>{webhooks.failed > 0 ? `${webhooks.failed} failed` : 'no failures'}</span>
          ) : null}
        </div>
        <p className="chart-foot muted">
          {webhooks
            ? `${webhooks.events} events waiting for a batch · ${webhooks.pending} batches pending or retrying · ${webhooks.failed} failed (POST /api/webhooks/retry sends them again)`
            : 'webhooks off: WEBHOOK_URL is unset'}
        </p>
      </div>
    </section>
  );
}
