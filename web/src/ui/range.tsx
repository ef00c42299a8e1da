/**
 * A time range: the last 24 hours, 7 or 30 days, or custom dates. `from` and `to` are ISO
 * instants (`to` exclusive); `bucket` is the chart's step, hours for a day and days beyond.
 */
import { useState } from 'preact/hooks';

export type RangeName = '24h' | '7d' | '30d' | 'custom';

export interface Range {
  name: RangeName;
  from: string;
  to: string;
  bucket: 'hour' | 'day';
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

export function presetRange(name: Exclude<RangeName, 'custom'>, now = Date.now()): Range {
  if (name === '24h') {
    // Whole hours: the current one and the 23 before it.
    const end = Math.floor(now / HOUR) * HOUR + HOUR;
    return { name, from: new Date(end - 24 * HOUR).toISOString(), to: new Date(end).toISOString(), bucket: 'hour' };
  }
  const days = name === '7d' ? 7 : 30;
  const end = Math.floor(now / DAY) * DAY + DAY;
  return { name, from: new Date(end - days * DAY).toISOString(), to: new Date(end).toISOString(), bucket: 'day' };
}

/** Custom: whole UTC days from `fromDay` through `toDay` (YYYY-MM-DD), inclusive. */
export function customRange(fromDay: string, toDay: string): Range | null {
  const a = Date.parse(`${fromDay}T00:00:00Z`);
  const b = Date.parse(`${toDay}T00:00:00Z`);
  if (Number.isNaN(a) || Number.isNaN(b) || b < a) return null;
  return { name: 'custom', from: new Date(a).toISOString(), to: new Date(b + DAY).toISOString(), bucket: b - a < DAY ? 'hour' : 'day' };
}

/** Every bucket start in the range, as the API labels them: 'YYYY-MM-DD' or 'YYYY-MM-DDTHH'. */
export function buckets(r: Range): string[] {
  const step = r.bucket === 'hour' ? HOUR : DAY;
  const out: string[] = [];
  for (let t = Date.parse(r.from); t < Date.parse(r.to); t += step)
    out.push(new Date(t).toISOString().slice(0, r.bucket === 'hour' ? 13 : 10));
  return out;
}

const LABELS: Record<Exclude<RangeName, 'custom'>, string> = { '24h': '24 h', '7d': '7 d', '30d': '30 d' };

export function RangePicker({ value, onChange }: { value: Range; onChange: (r: Range) => void }) {
  const today = new Date().toISOString().slice(0, 10);
  const [from, setFrom] = useState(value.from.slice(0, 10));
  const [to, setTo] = useState(today);
  const [invalid, setInvalid] = useState(false);
  return (
    // biome-ignore lint/a11y/useSemanticElements: a segmented row of buttons; a <fieldset> would add form semantics and a legend it does not have
    <div class="range" role="group" aria-label="Time range">
      {(Object.keys(LABELS) as Array<keyof typeof LABELS>).map((n) => (
        <button key={n} type="button" class="seg" aria-pressed={value.name === n} onClick={() => onChange(presetRange(n))}>
          {LABELS[n]}
        </button>
      ))}
      <form
        class="custom"
        onSubmit={(e) => {
          e.preventDefault();
          const r = customRange(from, to);
          setInvalid(r === null);
          if (r) onChange(r);
        }}
      >
        <label>
          From <input type="date" value={from} max={today} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To <input type="date" value={to} max={today} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <button type="submit" class="seg" aria-pressed={value.name === 'custom'}>
          Apply
        </button>
        {invalid && <span class="error">The end is before the start.</span>}
      </form>
    </div>
  );
}
