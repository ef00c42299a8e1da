/**
 * Turning time buckets into the numbers EndpointStats reports: uptime percentages and weighted
 * percentiles. Both health implementations store buckets in this shape (one in memory, one in a
 * Redis hash), so the maths lives here once.
 */
import type { EndpointStats, Percentiles } from '../types.ts';
import { epochOf, SHORT_BUCKETS, SLOTS } from './policy.ts';

/** One 30 s bucket of outcomes for one endpoint. */
export interface Bucket {
  /** `floor(ms / BUCKET_MS)` of the bucket's start. */
  epoch: number;
  ok: number;
  fail: number;
  /** A uniform sample (at most RESERVOIR) of the `ttftSeen` time-to-first-token values, ms. */
  ttft: number[];
  ttftSeen: number;
  /** Likewise for output tokens per second. */
  tps: number[];
  tpsSeen: number;
}

export function emptyBucket(epoch: number): Bucket {
  return { epoch, ok: 0, fail: 0, ttft: [], ttftSeen: 0, tps: [], tpsSeen: 0 };
}

export type WindowStats = Omit<EndpointStats, 'circuit'>;

export const NO_STATS: WindowStats = {
  uptime5m: null,
  uptime30m: null,
  latency5m: null,
  latency30m: null,
  throughput5m: null,
  throughput30m: null,
};

/** Stats of the buckets that fall in the 5- and 30-minute windows ending at `now`. */
export function summarise(buckets: Iterable<Bucket>, now: number, minSamples: number): WindowStats {
  const cur = epochOf(now);
  const short: Bucket[] = [];
  const long: Bucket[] = [];
  for (const b of buckets) {
    // Buckets after `now` only appear when a caller passes an earlier `now`; they are not yet "past".
    if (b.epoch > cur || b.epoch <= cur - SLOTS) continue;
    long.push(b);
    if (b.epoch > cur - SHORT_BUCKETS) short.push(b);
  }
  return {
    uptime5m: uptime(short, minSamples),
    uptime30m: uptime(long, minSamples),
    latency5m: percentiles(short, 'ttft', 'high'),
    latency30m: percentiles(long, 'ttft', 'high'),
    throughput5m: percentiles(short, 'tps', 'low'),
    throughput30m: percentiles(long, 'tps', 'low'),
  };
}

function uptime(buckets: readonly Bucket[], minSamples: number): number | null {
  let ok = 0;
  let fail = 0;
  for (const b of buckets) {
    ok += b.ok;
    fail += b.fail;
  }
  const n = ok + fail;
  if (n === 0 || n < minSamples) return null;
  return (100 * ok) / n;
}

/**
 * Percentiles over the buckets' reservoirs. A bucket's samples stand for all `seen` values of that
 * bucket, so each sample weighs `seen / samples.length`: a busy bucket is not under-represented just
 * because its reservoir is full.
 *
 * `tail` says which end is bad. Latency's p99 is its slowest 1% (`high`); throughput's p99 is the
 * value 99% of requests reached or beat, i.e. its slowest 1% too (`low`), which is how OpenRouter's
 * endpoints API reports it (p50 > p90 > p99 for throughput).
 */
function percentiles(buckets: readonly Bucket[], metric: 'ttft' | 'tps', tail: 'high' | 'low'): Percentiles | null {
  const points: Array<{ v: number; w: number }> = [];
  let total = 0;
  for (const b of buckets) {
    const samples = metric === 'ttft' ? b.ttft : b.tps;
    const seen = metric === 'ttft' ? b.ttftSeen : b.tpsSeen;
    if (samples.length === 0) continue;
    const w = Math.max(seen, samples.length) / samples.length;
    for (const v of samples) points.push({ v, w });
    total += w * samples.length;
  }
  if (points.length === 0) return null;
  points.sort((a, b) => a.v - b.v);
  const at = (q: number): number => {
    // Nearest rank: the first value whose cumulative weight reaches q of the total.
    const target = (tail === 'high' ? q : 1 - q) * total;
    let acc = 0;
    for (const p of points) {
      acc += p.w;
      if (acc >= target - 1e-9) return p.v;
    }
    return points[points.length - 1].v;
  };
  return { p50: at(0.5), p75: at(0.75), p90: at(0.9), p99: at(0.99) };
}

/**
 * Algorithm R: keeps `sample` a uniform sample of everything offered to it. `seen` counts values
 * offered before this one. `random` is injected so the Redis script can use a client-drawn number.
 */
export function reservoirAdd(sample: number[], seen: number, value: number, cap: number, random: number): void {
  if (sample.length < cap) {
    sample.push(value);
    return;
  }
  const j = Math.floor(random * (seen + 1));
  if (j < cap) sample[j] = value;
}
