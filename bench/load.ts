/**
 * The load generator: undici keep-alive pools, one per server, and three load shapes —
 * paired fixed-rate (latency, TTFB), and closed-loop (throughput). Everything is bounded by a
 * request count or a deadline, and every request by undici's own timeouts.
 */
import { Pool } from 'undici';
import { sleep } from './stats.ts';

export interface Target {
  name: string;
  pool: Pool;
  path: string;
  headers: Record<string, string>;
  body: string;
  streamBody: string;
  /** Requests sent so far (to cross-check against the servers' own counts). */
  sent: number;
}

export interface Sample {
  ok: boolean;
  status: number;
  /** Request sent → body fully read. */
  totalMs: number;
  /** Request sent → first body chunk (streams: the first chunk holding `data:`). */
  ttfbMs: number;
  /** Body chunks the client read (how the server's writes were packed). */
  chunks: number;
}

export function makeTarget(opts: {
  name: string;
  origin: string;
  path: string;
  apiKey: string;
  model: string;
  connections: number;
}): Target {
  const messages = [{ role: 'user', content: 'Say hello to the benchmark.' }];
  return {
    name: opts.name,
    pool: new Pool(opts.origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    }),
    path: opts.path,
    headers: { authorization: `Bearer ${opts.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: opts.model, messages }),
    streamBody: JSON.stringify({ model: opts.model, messages, stream: true }),
    sent: 0,
  };
}

const DATA = Buffer.from('data:');

/** One request, timed; never throws (a failure is a sample with ok: false). */
export async function send(t: Target, stream: boolean): Promise<Sample> {
  const t0 = performance.now();
  let status = 0;
  t.sent++;
  try {
    const res = await t.pool.request({ path: t.path, method: 'POST', headers: t.headers, body: stream ? t.streamBody : t.body });
    status = res.statusCode;
    let ttfb = NaN;
    let chunks = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      chunks++;
      if (Number.isNaN(ttfb) && (!stream || chunk.includes(DATA))) ttfb = performance.now() - t0;
    }
    const total = performance.now() - t0;
    return { ok: status === 200 && !Number.isNaN(ttfb), status, totalMs: total, ttfbMs: ttfb, chunks };
  } catch {
    return { ok: false, status, totalMs: performance.now() - t0, ttfbMs: NaN, chunks: 0 };
  }
}

export interface FixedRateResult {
  /** Samples per target, in the order the targets were given. */
  samples: Sample[][];
  /** Ticks skipped because too many rounds were still in flight. */
  skipped: number;
}

/**
 * Open-loop, fixed rate: every 1/rate seconds, one request to each target, one after the other so
 * they do not compete for the CPU, the order rotating each tick. Ticks keep to the schedule
 * whatever the latency; at most `maxInFlight` rounds are outstanding.
 */
export async function interleavedFixedRate(
  targets: readonly Target[],
  opts: { rate: number; durationMs: number; stream: boolean; maxInFlight?: number },
): Promise<FixedRateResult> {
  const interval = 1000 / opts.rate;
  const ticks = Math.max(1, Math.floor(opts.durationMs / interval));
  const maxInFlight = opts.maxInFlight ?? 64;
  const out: FixedRateResult = { samples: targets.map(() => []), skipped: 0 };
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  for (let i = 0; i < ticks; i++) {
    const wait = start + i * interval - performance.now();
    if (wait >= 1) await sleep(wait);
    if (inFlight.size >= maxInFlight) {
      out.skipped++;
      continue;
    }
    const round = (async () => {
      for (let k = 0; k < targets.length; k++) {
        const j = (i + k) % targets.length;
        out.samples[j].push(await send(targets[j], opts.stream));
      }
    })();
    inFlight.add(round);
    void round.finally(() => inFlight.delete(round));
  }
  await Promise.all(inFlight);
  return out;
}

export interface ClosedLoopResult {
  ok: number;
  errors: number;
  elapsedMs: number;
}

/** Closed loop: `concurrency` workers, each sending the next request as soon as the last ends. */
export async function closedLoop(t: Target, opts: { concurrency: number; durationMs: number }): Promise<ClosedLoopResult> {
  const start = performance.now();
  const deadline = start + opts.durationMs;
  let ok = 0;
  let errors = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const s = await send(t, false);
      if (s.ok) ok++;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { ok, errors, elapsedMs: performance.now() - start };
}
