import { describe, expect, it } from 'vitest';
import { PROFILES } from './config';
import { featureGoals } from './features';
import { busyCoreGoal, majorGcsPerRun } from './goals';
import type { Metric, ScenarioResult, ServerResult } from './lib/results';
import { scaleGoal } from './scale';

const metric = (runs: number[], unit: string): Metric => ({
  median: runs.length ? [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]! : NaN,
  min: Math.min(...runs),
  max: Math.max(...runs),
  runs,
  unit,
});

describe('majorGcsPerRun', () => {
  it("pairs each run's p99 with the major GCs of the same run, in run order", () => {
    const text = majorGcsPerRun(metric([93.31, 12.04, 13.5], 'ms'), metric([1, 0, 2], 'count'));
    expect(text).toBe("; Herald's p99 in each run, with the major GCs its process made during the run: 93.3 ms (1), 12.0 ms (0), 13.5 ms (2)");
  });

  it('says nothing when the runs do not line up or one side is missing', () => {
    expect(majorGcsPerRun(metric([10, 11], 'ms'), metric([0], 'count'))).toBe('');
    expect(majorGcsPerRun(undefined, metric([0], 'count'))).toBe('');
    expect(majorGcsPerRun(metric([10], 'ms'), undefined)).toBe('');
    expect(majorGcsPerRun(metric([], 'ms'), metric([], 'count'))).toBe('');
  });
});

const server = (metrics: Record<string, Metric>, extra: Partial<ServerResult> = {}): ServerResult => ({
  metrics,
  expected: 10,
  delivered: 10,
  lost: 0,
  errors: [],
  notes: [],
  ...extra,
});

const features = (v: Record<string, ServerResult>): ScenarioResult => ({ title: 'features', method: '', rows: [], servers: {}, variants: v });

describe('featureGoals', () => {
  const variants = () => ({
    shipped: server({
      acceptedPerSec: metric([9_700], '/s'),
      usPerNotification: metric([100], 'µs'),
      fanoutUsPerDelivery: metric([5.1], 'µs'),
      usPerCollapsing: metric([150], 'µs'),
      collapsingPerSec: metric([6_000], '/s'),
      usPerPlainAtRate: metric([200], 'µs'),
      usPerCollapsingAtRate: metric([250], 'µs'),
    }),
    receipts: server({ acceptedPerSec: metric([9_000], '/s'), usPerNotification: metric([110], 'µs') }),
    webhooks: server({ acceptedPerSec: metric([8_000], '/s'), usPerNotification: metric([125], 'µs') }),
    noMetrics: server({ acceptedPerSec: metric([10_000], '/s'), usPerNotification: metric([98], 'µs') }),
    noGuard: server({ fanoutUsPerDelivery: metric([5], 'µs') }),
  });

  it('judges webhooks on/off against receipts without webhooks, metrics against the no-metrics build, the guard against the no-guard build', () => {
    const [webhooks, metrics, guard] = featureGoals(features(variants()));
    expect(webhooks?.measured).toBe('0.89× (8,000 against 9,000/s)');
    expect(webhooks?.met).toBe(true);
    expect(webhooks?.bound).toContain('writing receipts costs 10.0 µs of server CPU per push');
    expect(webhooks?.bound).toContain('webhooks add 15.0 µs per push');
    expect(metrics?.measured).toBe('0.97× (9,700 against 10,000/s)');
    expect(metrics?.met).toBe(true);
    expect(guard?.measured).toBe('1.02× (5.10 against 5.00 µs)');
    expect(guard?.met).toBe(true);
  });

  it('fails a ratio past its target, and every goal when deliveries were lost', () => {
    const v = variants();
    v.noGuard = server({ fanoutUsPerDelivery: metric([4.9], 'µs') });
    expect(featureGoals(features(v))[2]?.met).toBe(false);
    const lossy = variants();
    lossy.receipts = { ...lossy.receipts, lost: 1 };
    for (const g of featureGoals(features(lossy))) expect(g.met).toBe(false);
  });

  it('judges a collapsing push against a plain one at the same fixed rate, both on the shipped server, and reports each at its saturation', () => {
    const v = variants();
    const collapse = featureGoals(features(v))[3];
    expect(collapse?.measured).toBe('1.25× (250.00 against 200.00 µs)');
    expect(collapse?.met).toBe(true);
    expect(collapse?.bound).toContain('each at its own saturation, CPU 1.50× (150.00 against 100.00 µs) and throughput 0.62× (6,000 against 9,700/s)');
    v.shipped.metrics.usPerCollapsingAtRate = metric([270], 'µs');
    expect(featureGoals(features(v))[3]?.met).toBe(false);
    delete v.shipped.metrics.usPerCollapsingAtRate;
    expect(featureGoals(features(v))[3]?.met).toBeNull();
  });

  it('judges the median of the rounds\u2019 ratios when both sides have a figure from every round', () => {
    const v = variants();
    // The machine slows in round 2: the ratio of the medians reads 0.90x, each round's own ratio 0.98–0.99x.
    v.shipped.metrics.acceptedPerSec = metric([9_800, 5_900, 9_850], '/s');
    v.noMetrics.metrics.acceptedPerSec = metric([10_000, 6_000, 9_900], '/s');
    const metrics = featureGoals(features(v))[1];
    expect(metrics?.measured).toBe('0.983× (median of 3 rounds\u2019 ratios, 0.980–0.995; 9,800 (5,900–9,850) against 9,900 (6,000–10,000)/s)');
    expect(metrics?.met).toBe(true);
    v.noMetrics.metrics.acceptedPerSec = metric([10_000, 6_000], '/s');
    expect(featureGoals(features(v))[1]?.measured).toMatch(/^0\.98× \(9,800 /);
  });

  it('leaves every goal unjudged when the scenario did not run', () => {
    for (const g of featureGoals({ ...features({}), notMeasured: 'not run' })) {
      expect(g.met).toBeNull();
      expect(g.measured).toBe('not run');
    }
  });
});

describe('scaleGoal', () => {
  const scale = (all: ServerResult): ScenarioResult => ({
    title: 'scale',
    method: '',
    rows: [],
    servers: {},
    variants: { all, 'node-1': server({ rssPerSocketKiB: metric([11.5], 'KiB') }) },
  });
  const held = (disconnects: number, sockets = 60_000, heldS = 301) =>
    server({ sockets: metric([sockets], 'sockets'), heldS: metric([heldS], 's'), disconnects: metric([disconnects], 'count') });
  const full = { ...PROFILES.full };

  it('is met at the full size with every socket held and no disconnect, and not met with one', () => {
    expect(scaleGoal(scale(held(0)), full).met).toBe(true);
    expect(scaleGoal(scale(held(1)), full).met).toBe(false);
    expect(scaleGoal(scale(held(0, 59_990)), full).met).toBe(false);
  });

  it('reports a smaller run without a verdict', () => {
    const g = scaleGoal(scale(held(0, 8_000, 60)), { ...full, scaleSockets: 8_000, scaleHoldMs: 60_000 });
    expect(g.met).toBeNull();
    expect(g.untestable).toMatch(/^a smaller run \(8,000 sockets, 4 nodes, 60 s\)/);
    expect(g.measured).toMatch(/^8,000 sockets on 1 nodes for 60\.0 s, 0 unexpected disconnects, 0 lost/);
  });
});

describe('busyCoreGoal', () => {
  it('needs 0.75× the quiet throughput and the p99 within the quiet goal\u2019s limit', () => {
    const quiet = metric([10_000], '/s');
    expect(busyCoreGoal(quiet, metric([8_000], '/s'), metric([12], 'ms'), 15, metric([1.1], 'cores')).met).toBe(true);
    expect(busyCoreGoal(quiet, metric([7_000], '/s'), metric([12], 'ms'), 15, undefined).met).toBe(false);
    expect(busyCoreGoal(quiet, metric([8_000], '/s'), metric([16], 'ms'), 15, undefined).met).toBe(false);
    expect(busyCoreGoal(quiet, metric([8_000], '/s'), metric([12], 'ms'), 15, undefined).measured).toBe(
      '8,000/s against 10,000/s: 0.80×; p99 at the busy half rate 12.00 ms against a limit of 15.00 ms',
    );
    expect(busyCoreGoal(quiet, undefined, undefined, 15, undefined).met).toBeNull();
  });
});
