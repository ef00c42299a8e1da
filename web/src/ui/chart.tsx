/**
 * A stacked bar chart (uPlot): one bar per time bucket, one colour per group (model, provider,
 * key or app). uPlot has no stacking of its own, so each series is drawn at its running total,
 * the tallest first, and the ones below paint over it. The legend and the hover read-out show
 * each group's own value, not the running total.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626', '#6b7280', '#a16207'];

export interface StackedSeries {
  label: string;
  values: number[];
}

export function StackedBars(props: {
  /** Bucket start times, seconds since the epoch. */
  x: number[];
  series: StackedSeries[];
  format: (v: number) => string;
  /** The y axis's labels (shorter than format's); default format. */
  axis?: (v: number) => string;
  label: string;
  hourly: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [hover, setHover] = useState<number | null>(null);
  const { x, series, format, hourly } = props;
  const axis = props.axis ?? format;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const running = x.map(() => 0);
    const stacked = series.map((s) => s.values.map((v, i) => (running[i] += v)));
    const bars = uPlot.paths.bars!({ size: [0.7, 48] });
    // Half a bucket either side, so the first and last bars are whole.
    const half = x.length > 1 ? (x[1] - x[0]) / 2 : 1800;
    const order = series.map((_, i) => i).reverse();
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: el.clientWidth < 500 ? 200 : 260,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      padding: [8, 8, 0, 0],
      scales: {
        x: { time: true, range: () => [x[0] - half, x[x.length - 1] + half] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
      },
      axes: [
        {
          stroke: 'currentColor',
          grid: { show: false },
          // A label under every bar, or every n-th when they would crowd.
          splits: (u) => {
            const every = Math.ceil(x.length / Math.max(3, Math.floor(u.width / 70)));
            return x.filter((_t, i) => (x.length - 1 - i) % every === 0);
          },
          values: (_u, ticks) => ticks.map((t) => fmtTick(t, hourly)),
        },
        { stroke: 'currentColor', size: 64, grid: { stroke: 'rgba(128,128,128,.2)' }, values: (_u, ticks) => ticks.map((t) => axis(t)) },
      ],
      series: [
        {},
        ...order.map((i) => ({
          label: series[i].label,
          fill: PALETTE[i % PALETTE.length],
          stroke: PALETTE[i % PALETTE.length],
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
      hooks: { setCursor: [(u) => setHover(u.cursor.idx ?? null)] },
    };
    const u = new uPlot(opts, [x, ...order.map((i) => stacked[i])] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(280, el.clientWidth), height: el.clientWidth < 500 ? 200 : 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
    };
  }, [x, series, axis, hourly]);
  const at = hover ?? null;
  return (
    <figure class="chart">
      <div ref={box} class="chart-box" role="img" aria-label={props.label} />
      <figcaption>
        {at !== null && x[at] !== undefined && (
          <p class="hover" aria-hidden="true">
            {fmtTick(x[at], hourly)}: {series.map((s) => `${s.label} ${format(s.values[at] ?? 0)}`).join(' · ')}
          </p>
        )}
        <ul class="legend">
          {series.map((s, i) => (
            <li key={s.label}>
              <span class="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
              {s.label} <span class="muted">{format(s.values.reduce((a, b) => a + b, 0))}</span>
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

function fmtTick(sec: number, hourly: boolean): string {
  const d = new Date(sec * 1000);
  const iso = d.toISOString();
  return hourly ? `${iso.slice(11, 13)}:00` : `${iso.slice(5, 7)}-${iso.slice(8, 10)}`;
}
