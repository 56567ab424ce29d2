/**
 * A small line chart as inline SVG: one path per series over the same x axis,
 * gaps where a value is null. No chart library: the view draws two of these.
 */
export interface SparkSeries {
  values: Array<number | null>;
  /** Names the CSS class that colours the line (admin.css: spark-a, spark-b). */
  tone: 'a' | 'b';
  /** Fill the area under the line. */
  area?: boolean;
}

const WIDTH = 300;
const HEIGHT = 72;
const PAD = 3;

/** The x axis spans at least this many points, and grows with the data up to `capacity`. */
const MIN_SPAN = 30;

export function Sparkline({ series, label, capacity }: { series: SparkSeries[]; label: string; capacity: number }) {
  const span = Math.min(capacity, Math.max(MIN_SPAN, ...series.map((s) => s.values.length)));
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const x = (i: number, n: number) => WIDTH - ((n - 1 - i) / Math.max(1, span - 1)) * WIDTH;
  const y = (v: number) => HEIGHT - PAD - (v / max) * (HEIGHT - PAD * 2);
  return (
    <svg className="sparkline" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={label}>
      <line className="spark-base" x1={0} x2={WIDTH} y1={HEIGHT - PAD} y2={HEIGHT - PAD} />
      {series.map((s, k) => {
        const n = s.values.length;
        let line = '';
        let area = '';
        let runStart = -1;
        s.values.forEach((v, i) => {
          if (v === null) {
            if (runStart >= 0 && s.area) area += `L${x(i - 1, n)},${HEIGHT - PAD}Z`;
            runStart = -1;
            return;
          }
          const point = `${x(i, n).toFixed(1)},${y(v).toFixed(1)}`;
          if (runStart < 0) {
            runStart = i;
            line += `M${point}`;
            if (s.area) area += `M${x(i, n).toFixed(1)},${HEIGHT - PAD}L${point}`;
          } else {
            line += `L${point}`;
            if (s.area) area += `L${point}`;
          }
        });
        if (runStart >= 0 && s.area) area += `L${x(n - 1, n).toFixed(1)},${HEIGHT - PAD}Z`;
        return (
          <g key={k} className={`spark-${s.tone}`}>
            {s.area && area && <path className="spark-area" d={area} />}
            {line && <path className="spark-line" d={line} vectorEffect="non-scaling-stroke" />}
          </g>
        );
      })}
    </svg>
  );
}
