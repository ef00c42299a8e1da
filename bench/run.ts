/**
 * `npm run bench [-- --quick] [-- --profile] [-- --only=latency,stream,throughput,many-streams]`:
 * Freeway's overhead against calling the emulator directly, and how it holds 2,000 streams at once.
 *
 * Four processes: the OpenAI emulator, one Freeway (authentication and usage recording on, SQLite
 * in a temp dir), a bare forwarder (the yardstick: what Node's HTTP alone costs on this machine)
 * and this one, the load generator. Every measurement is interleaved — every path in the same
 * phase, or in rotating phases — so drift affects all alike:
 *   1. latency at a fixed 200 req/s (each tick one request per path, order rotating)
 *   2. streaming time to the first `data:` byte at a fixed rate, the same way
 *   3. closed-loop throughput, rotating direct, Freeway and bare-forwarder phases, with each
 *      server's CPU time
 *   4. peak RSS of the Freeway process over those phases
 *   5. 2,000 concurrent streams through Freeway (last, so its memory does not colour the rest):
 *      whether all complete, and Freeway's peak RSS against its RSS just before (idle)
 * and, in phases 1 and 2, how long answers waited for their charge to commit before their last
 * bytes (recorded inside the Freeway process by settle-probe.mjs)
 * Prints a Markdown table; exits 0 whether or not the targets are met (non-zero only when the
 * benchmark itself fails). `--profile` also writes a CPU profile of the Freeway process and prints
 * its hotspots.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, killAll } from './children.ts';
import { costRows, runCostPhase } from './cost.ts';
import { peersTable, startPeers } from './peers.ts';
import type { Peer, PeerMeasure } from './peers.ts';
import { WORKERS_CPU_TARGET, workersMissed, workersScenario, workersTable } from './workers.ts';
import { dashboardRows, dashboardScenario, INTERACTIVE_TARGET_MS, renderDashboardTable } from './dashboard.ts';
import { FreewayProcess } from './freeway-process.ts';
import type { SettleWaits } from './freeway-process.ts';
import type { ChildStats } from './child-ipc.ts';
import { closedLoop, interleavedFixedRate, makeTarget } from './load.ts';
import { manyStreams } from './many-streams.ts';
import type { ManyStreamsResult } from './many-streams.ts';
import type { FixedRateResult, Sample, Target } from './load.ts';
import { summariseProfile } from './profile.ts';
import { renderTable } from './report.ts';
import type { Row } from './report.ts';
import { fmtAddedMs, fmtMB, fmtMs, fmtRate, percentile, sleep } from './stats.ts';

const PHASES = ['latency', 'stream', 'throughput', 'many-streams', 'cost', 'workers', 'dashboard'] as const;
/** Phases that start processes of their own (not the shared emulator / Freeway / forwarder trio). */
const OWN_SETUP: readonly Phase[] = ['cost', 'workers', 'dashboard'];
type Phase = (typeof PHASES)[number];

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    [
      'usage: npm run bench [-- --quick] [-- --profile] [-- --callgrind] [-- --no-pg]',
      '                     [-- --only=latency,stream,throughput,many-streams,cost,workers,dashboard]',
      '  --quick    short smoke run (~10 s)',
      '  --profile  CPU-profile the Freeway process (--cpu-prof) and print its hotspots',
      "  --only=…   run only these phases (comma-separated; `cost` alone is the per-request cost against issue 14's ratio targets)",
      '  --callgrind  the cost phase also counts instructions per request under valgrind --tool=callgrind',
      "  --only=workers  freeway serve --workers 2 against one worker (issue 14: CPU per request ≤ 1.1× one worker's)",
      '  --only=dashboard  the dashboard in chromium with a year of activity (issue 13: interactive < 1 s, first load < 250 KB)',
      '  --no-pg    the cost and workers phases skip PostgreSQL + Redis (by default they use the test services when they answer)',
      '  --freeway-arg=…  extra Node option for the Freeway process (repeatable), e.g. --freeway-arg=--max-semi-space-size=4',
    ].join('\n'),
  );
  process.exit(0);
}
const QUICK = args.includes('--quick');
const PROFILE = args.includes('--profile');
const onlyArg = args.find((a) => a.startsWith('--only='));
const FREEWAY_NODE_ARGS = args.filter((a) => a.startsWith('--freeway-arg=')).map((a) => a.slice('--freeway-arg='.length));
const CALLGRIND = args.includes('--callgrind');
const WITH_PG = !args.includes('--no-pg');
const known = (a: string) =>
  ['--quick', '--profile', '--callgrind', '--no-pg'].includes(a) || a.startsWith('--only=') || a.startsWith('--freeway-arg=');
const bad = args.filter((a) => !known(a));
if (bad.length > 0) {
  console.error(`unknown option ${bad.join(' ')} (try --help)`);
  process.exit(2);
}
const RUN = new Set<Phase>(onlyArg ? (onlyArg.slice(7).split(',') as Phase[]) : PHASES);
for (const p of RUN) {
  if (!PHASES.includes(p)) {
    console.error(`unknown phase ${p}; phases are ${PHASES.join(', ')}`);
    process.exit(2);
  }
}

const TARGETS = { rps: 8_000, p50AddedMs: 0.5, p99AddedMs: 2, ttfbAddedMs: 0.5, peakRssBytes: 150 * 1024 * 1024, manyStreamsRssRatio: 2 };

const PLAN = QUICK
  ? {
      warmupMs: 700,
      latencyRate: 200,
      latencyMs: 2_000,
      streamRate: 50,
      streamMs: 1_500,
      rounds: 1,
      phaseMs: 1_000,
      concurrency: 64,
      manyStreams: 2_000,
      watchdogMs: 150_000,
    }
  : {
      warmupMs: 2_000,
      latencyRate: 200,
      latencyMs: 10_000,
      streamRate: 50,
      streamMs: 8_000,
      rounds: 3,
      phaseMs: 2_000,
      concurrency: 64,
      manyStreams: 2_000,
      watchdogMs: 360_000,
    };

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface Snapshot {
  after: string;
  fw: ChildStats;
  emu: ChildStats;
  bare: ChildStats;
  /** Requests the load generator had sent by then, per path (peers: all of them together). */
  sent: { direct: number; freeway: number; bare: number; peers: number };
}

interface FixedRate {
  direct: Sample[];
  freeway: Sample[];
  bare: Sample[];
  skipped: number;
  /** CPU time over the phase: Freeway's, its kernel part, the bare forwarder's, and the emulator's (which served every path). */
  fwCpuUs: number;
  fwSysUs: number;
  bareCpuUs: number;
  emuCpuUs: number;
}

interface ClosedLoopTotals {
  ok: number;
  errors: number;
  ms: number;
  /** CPU time of the process under test (the emulator for direct) over its phases, and its kernel part. */
  cpuUs: number;
  sysUs: number;
  emuCpuUs: number;
}

interface Results {
  latency?: FixedRate;
  stream?: FixedRate;
  /** How long answers waited for their charge to commit in the latency and stream phases. */
  settle: { latency?: SettleWaits; stream?: SettleWaits };
  throughput?: { direct: ClosedLoopTotals; freeway: ClosedLoopTotals; bare: ClosedLoopTotals };
  manyStreams?: { freeway: ManyStreamsResult; bare: ManyStreamsResult };
  snapshots: Snapshot[];
  /** The peer gateways (Portkey, nginx) in the stream and throughput phases, and those skipped with why. */
  peers: { measures: PeerMeasure[]; skipped: string[] };
}

async function sanityCheck(t: Target): Promise<void> {
  t.sent += 2;
  const res = await t.pool.request({ path: t.path, method: 'POST', headers: t.headers, body: t.body });
  const text = await res.body.text();
  const content =
    res.statusCode === 200
      ? (JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content
      : undefined;
  if (typeof content !== 'string') throw new Error(`${t.name}: unexpected answer ${res.statusCode}: ${text.slice(0, 500)}`);
  const s = await t.pool.request({ path: t.path, method: 'POST', headers: t.headers, body: t.streamBody });
  const stream = await s.body.text();
  if (s.statusCode !== 200 || !stream.includes('data: [DONE]'))
    throw new Error(`${t.name}: unexpected stream ${s.statusCode}: ${stream.slice(0, 500)}`);
}

function fixedRate(p: FixedRateResult, before: Snapshot, after: Snapshot): FixedRate {
  const [direct, freeway, bare] = p.samples;
  return {
    direct,
    freeway,
    bare,
    skipped: p.skipped,
    fwCpuUs: after.fw.cpuUs - before.fw.cpuUs,
    fwSysUs: after.fw.sysUs - before.fw.sysUs,
    bareCpuUs: after.bare.cpuUs - before.bare.cpuUs,
    emuCpuUs: after.emu.cpuUs - before.emu.cpuUs,
  };
}

/** CPU per request at a fixed rate: the emulator's (it served every path's requests), the forwarders'. */
function cpuRow(metric: string, f: FixedRate): Row {
  const emu = f.emuCpuUs / 1000 / (f.direct.length + f.freeway.length + f.bare.length);
  const fw = f.fwCpuUs / 1000 / Math.max(1, f.freeway.length);
  const bare = f.bareCpuUs / 1000 / Math.max(1, f.bare.length);
  return {
    metric,
    direct: fmtMs(emu),
    bare: fmtMs(bare),
    freeway: `${fmtMs(fw)} (${Math.round((100 * f.fwSysUs) / Math.max(1, f.fwCpuUs))}% sys)`,
    added: fmtAddedMs(fw),
    target: 'info',
  };
}

async function measure(
  emu: Child,
  fw: FreewayProcess,
  bareFw: Child,
  direct: Target,
  freeway: Target,
  bare: Target,
  peers: { started: Peer[]; skipped: string[] },
): Promise<Results> {
  const snapshots: Snapshot[] = [];
  const all = [direct, freeway, bare];
  const peerSent = () => peers.started.reduce((n, p) => n + p.target.sent, 0);
  const snap = async (after: string): Promise<Snapshot> => {
    const [f, e, b] = await Promise.all([fw.stats(), emu.stats(), bareFw.stats()]);
    const sent = { direct: direct.sent, freeway: freeway.sent, bare: bare.sent, peers: peerSent() };
    const x: Snapshot = { after, fw: f, emu: e, bare: b, sent };
    snapshots.push(x);
    return x;
  };
  const measures: PeerMeasure[] = peers.started.map((p) => ({ name: p.name }));
  const r: Results = { snapshots, settle: {}, peers: { measures, skipped: peers.skipped } };
  await snap('start-up');

  log(`warm-up (${PLAN.warmupMs} ms per path)`);
  await closedLoop(direct, { concurrency: 16, durationMs: PLAN.warmupMs / 2 });
  await closedLoop(freeway, { concurrency: 16, durationMs: PLAN.warmupMs / 2 });
  await closedLoop(bare, { concurrency: 16, durationMs: PLAN.warmupMs / 2 });
  for (const p of peers.started) await closedLoop(p.target, { concurrency: 16, durationMs: PLAN.warmupMs / 2 });
  await interleavedFixedRate(all, { rate: 100, durationMs: PLAN.warmupMs / 2, stream: true });
  await snap('warm-up');

  if (RUN.has('latency')) {
    log(`latency: ${PLAN.latencyRate} req/s per path for ${PLAN.latencyMs} ms, interleaved`);
    const before = await snap('(before latency)');
    fw.startSettleWaits();
    const lat = await interleavedFixedRate(all, { rate: PLAN.latencyRate, durationMs: PLAN.latencyMs, stream: false });
    r.settle.latency = await fw.stopSettleWaits();
    r.latency = fixedRate(lat, before, await snap(`latency @ ${PLAN.latencyRate} req/s`));
  }

  if (RUN.has('stream')) {
    log(`streaming TTFB: ${PLAN.streamRate} req/s per path for ${PLAN.streamMs} ms, interleaved`);
    const before = await snap('(before stream)');
    const peersBefore = await Promise.all(peers.started.map((p) => p.stats()));
    fw.startSettleWaits();
    const targets = [...all, ...peers.started.map((p) => p.target)];
    const str = await interleavedFixedRate(targets, { rate: PLAN.streamRate, durationMs: PLAN.streamMs, stream: true });
    r.settle.stream = await fw.stopSettleWaits();
    for (const [i, p] of peers.started.entries()) {
      const samples = str.samples[3 + i].filter((x) => x.ok);
      measures[i].ttfbMs = samples.map((x) => x.ttfbMs);
      measures[i].streamCpuUs = ((await p.stats()).cpuUs - peersBefore[i].cpuUs) / Math.max(1, str.samples[3 + i].length);
    }
    r.stream = fixedRate(str, before, await snap(`stream @ ${PLAN.streamRate} req/s`));
  }

  if (RUN.has('throughput')) {
    log(`throughput: ${PLAN.rounds} round(s) of ${PLAN.phaseMs} ms per path, ${PLAN.concurrency} connections, alternating`);
    const zero = (): ClosedLoopTotals => ({ ok: 0, errors: 0, ms: 0, cpuUs: 0, sysUs: 0, emuCpuUs: 0 });
    const tp: NonNullable<Results['throughput']> = { direct: zero(), freeway: zero(), bare: zero() };
    const paths: { name: 'direct' | 'freeway' | 'bare' | number; target: Target; child: { stats(): Promise<ChildStats> } }[] = [
      { name: 'direct', target: direct, child: emu },
      { name: 'freeway', target: freeway, child: fw },
      { name: 'bare', target: bare, child: bareFw },
      ...peers.started.map((p, i) => ({ name: i, target: p.target, child: p })),
    ];
    for (let round = 0; round < PLAN.rounds; round++) {
      for (let k = 0; k < paths.length; k++) {
        const p = paths[(round + k) % paths.length];
        await sleep(100);
        const [e0, c0] = await Promise.all([emu.stats(), p.child.stats()]);
        const res = await closedLoop(p.target, { concurrency: PLAN.concurrency, durationMs: PLAN.phaseMs });
        const [e1, c1] = await Promise.all([emu.stats(), p.child.stats()]);
        if (typeof p.name === 'number') {
          const m = measures[p.name];
          m.ok = (m.ok ?? 0) + res.ok;
          m.ms = (m.ms ?? 0) + res.elapsedMs;
          m.cpuUs = (m.cpuUs ?? 0) + c1.cpuUs - c0.cpuUs;
          continue;
        }
        const acc = tp[p.name];
        acc.ok += res.ok;
        acc.errors += res.errors;
        acc.ms += res.elapsedMs;
        acc.emuCpuUs += e1.cpuUs - e0.cpuUs;
        acc.cpuUs += c1.cpuUs - c0.cpuUs;
        acc.sysUs += c1.sysUs - c0.sysUs;
      }
    }
    await snap(`throughput, ${PLAN.concurrency} conns`);
    r.throughput = tp;
  }

  if (RUN.has('many-streams')) {
    log(`many streams: ${PLAN.manyStreams} at once, each on its own connection, held until all have reached the emulator`);
    await sleep(500);
    const fwRun = await manyStreams({
      origin: fw.info.url,
      path: freeway.path,
      apiKey: fw.info.key,
      pid: fw.proc.pid!,
      streams: PLAN.manyStreams,
    });
    await sleep(500);
    const bareRun = await manyStreams({
      origin: String(bareFw.info.url),
      path: bare.path,
      apiKey: 'none',
      pid: bareFw.proc.pid!,
      streams: PLAN.manyStreams,
    });
    r.manyStreams = { freeway: fwRun, bare: bareRun };
  }
  return r;
}

/**
 * The wait for the charge to commit before an answer's last bytes (so any process reading the
 * database sees it): it is latency the answer now carries, where the charge used to commit after.
 */
function settleRow(rows: Row[], notes: string[], metric: string, waits: number[] | undefined): void {
  const p50 = percentile(waits ?? [], 50);
  const p99 = percentile(waits ?? [], 99);
  rows.push({
    metric,
    direct: '—',
    bare: '—',
    freeway: `${fmtMs(p50)} / ${fmtMs(p99)}`,
    added: `${fmtAddedMs(p50)} / ${fmtAddedMs(p99)}`,
    target: 'info',
  });
  if (waits === undefined) notes.push(`${metric}: the settle probe did not answer`);
  else
    notes.push(
      `${metric}: ${waits.length} answers; the "added" column is the whole cost against committing the charge after the answer (before item 6)`,
    );
}

function report(r: Results): { table: string; notes: string[]; missed: string[] } {
  const ok = (s: Sample[]) => s.filter((x) => x.ok);
  const lat = (s: Sample[], p: number) =>
    percentile(
      ok(s).map((x) => x.totalMs),
      p,
    );
  const ttfb = (s: Sample[], p: number) =>
    percentile(
      ok(s).map((x) => x.ttfbMs),
      p,
    );
  const rows: Row[] = [];
  const missed: string[] = [];
  const notes: string[] = [];
  const count = (s: Sample[]) => `${ok(s).length}/${s.length} ok`;
  const cmp = (metric: string, d: number, f: number, b: number, limit: number | undefined, target: string) => {
    const added = f - d;
    const met = limit === undefined ? undefined : Number.isFinite(added) && added <= limit;
    rows.push({
      metric,
      direct: fmtMs(d),
      bare: `${fmtMs(b)} (${fmtAddedMs(b - d)})`,
      freeway: fmtMs(f),
      added: fmtAddedMs(added),
      target,
      met,
    });
    if (met === false) missed.push(`${metric}: added ${fmtAddedMs(added)} (target ${target})`);
  };

  if (r.latency) {
    const rate = PLAN.latencyRate;
    const L = r.latency;
    cmp(
      `latency p50 @ ${rate} req/s`,
      lat(L.direct, 50),
      lat(L.freeway, 50),
      lat(L.bare, 50),
      TARGETS.p50AddedMs,
      `≤ ${TARGETS.p50AddedMs} ms added`,
    );
    cmp(
      `latency p99 @ ${rate} req/s`,
      lat(L.direct, 99),
      lat(L.freeway, 99),
      lat(L.bare, 99),
      TARGETS.p99AddedMs,
      `≤ ${TARGETS.p99AddedMs} ms added`,
    );
    rows.push(cpuRow(`CPU per request @ ${rate} req/s`, L));
    settleRow(rows, notes, `charge commit before the answer, p50 / p99 @ ${rate} req/s`, r.settle.latency?.whole);
    notes.push(
      `latency samples: direct ${count(L.direct)}, Freeway ${count(L.freeway)}; p90 ${fmtMs(lat(L.direct, 90))} vs ${fmtMs(lat(L.freeway, 90))}, max ${fmtMs(lat(L.direct, 100))} vs ${fmtMs(lat(L.freeway, 100))}`,
    );
    if (L.skipped > 0) notes.push(`latency: ${L.skipped} ticks skipped (too many requests in flight)`);
  }
  if (r.stream) {
    const S = r.stream;
    const rate = PLAN.streamRate;
    cmp(
      `stream TTFB p50 @ ${rate} req/s`,
      ttfb(S.direct, 50),
      ttfb(S.freeway, 50),
      ttfb(S.bare, 50),
      TARGETS.ttfbAddedMs,
      `≤ ${TARGETS.ttfbAddedMs} ms added`,
    );
    cmp(`stream TTFB p99 @ ${rate} req/s`, ttfb(S.direct, 99), ttfb(S.freeway, 99), ttfb(S.bare, 99), undefined, 'info');
    rows.push(cpuRow(`CPU per stream @ ${rate} req/s`, S));
    settleRow(rows, notes, `charge commit before a stream's end, p50 / p99 @ ${rate} req/s`, r.settle.stream?.streamed);
    const chunks = (x: Sample[]) =>
      percentile(
        ok(x).map((y) => y.chunks),
        50,
      );
    notes.push(
      `stream samples: direct ${count(S.direct)}, Freeway ${count(S.freeway)}; whole stream p50 ${fmtMs(lat(S.direct, 50))} vs ${fmtMs(lat(S.freeway, 50))}; ` +
        `body chunks per stream (median) ${chunks(S.direct)} vs ${chunks(S.freeway)} — the emulator writes its whole short stream at once, ` +
        'so when Freeway also answers in one chunk its first byte waits for the relay of every frame',
    );
    if (S.skipped > 0) notes.push(`stream: ${S.skipped} ticks skipped (too many requests in flight)`);
  }
  if (r.throughput) {
    const t = r.throughput;
    const rps = (x: ClosedLoopTotals) => (x.ok * 1000) / x.ms;
    const cpuMs = (x: ClosedLoopTotals) => x.cpuUs / 1000 / x.ok;
    rows.push({
      metric: `throughput, measured (${PLAN.concurrency} conns, shared cores)`,
      direct: fmtRate(rps(t.direct)),
      bare: fmtRate(rps(t.bare)),
      freeway: fmtRate(rps(t.freeway)),
      added: '—',
      target: 'info',
    });
    const fwCpuMs = cpuMs(t.freeway);
    const sysPct = Math.round((100 * t.freeway.sysUs) / Math.max(1, t.freeway.cpuUs));
    rows.push({
      metric: 'CPU per request, saturated',
      direct: fmtMs(cpuMs(t.direct)),
      bare: fmtMs(cpuMs(t.bare)),
      freeway: `${fmtMs(fwCpuMs)} (${sysPct}% sys)`,
      added: fmtAddedMs(fwCpuMs),
      target: 'info',
    });
    const capacity = 1000 / fwCpuMs;
    const capMet = capacity >= TARGETS.rps;
    rows.push({
      metric: 'throughput per core (1000 / CPU ms per req)',
      direct: fmtRate(1000 / cpuMs(t.direct)),
      bare: fmtRate(1000 / cpuMs(t.bare)),
      freeway: fmtRate(capacity),
      added: '—',
      target: `≥ ${fmtRate(TARGETS.rps)}`,
      met: capMet,
    });
    if (!capMet)
      missed.push(
        `single-process throughput: ${fmtRate(capacity)} per core (${fmtMs(fwCpuMs)} CPU per request; target ≥ ${fmtRate(TARGETS.rps)}, i.e. ≤ ${(1000 / TARGETS.rps).toFixed(3)} ms)`,
      );
    const fwBusy = t.freeway.cpuUs / 1000 / t.freeway.ms;
    const emuBusy = t.freeway.emuCpuUs / 1000 / t.freeway.ms;
    notes.push(`throughput errors: direct ${t.direct.errors}, bare forwarder ${t.bare.errors}, Freeway ${t.freeway.errors}`);
    notes.push(
      `in the Freeway throughput phases Freeway used ${(fwBusy * 100).toFixed(0)}% of a core and the emulator ${(emuBusy * 100).toFixed(0)}%, ` +
        `the load generator the rest of the ${cpus().length} cores: the measured req/s is a floor, the per-core row is the fair single-process number`,
    );
    notes.push(
      `Freeway costs ${(fwCpuMs / cpuMs(t.bare)).toFixed(1)}× the bare forwarder's CPU per request; the targets were set where a bare forwarder does ` +
        `about 18,000 req/s per core, and it does ${fmtRate(1000 / cpuMs(t.bare))} per core here`,
    );
  }

  if (r.latency || r.stream || r.throughput) {
    notes.push(
      'CPU rows: "direct" is the emulator process\'s CPU per request it served, "via Freeway" the Freeway process\'s (user + system, all threads)',
    );
  }
  const s = r.snapshots;
  // The snapshots end before the many-streams phase: its peak is reported on its own row.
  const last = s[s.length - 1];
  const beforeThroughput = s.filter((x) => !x.after.startsWith('throughput')).at(-1)!;
  if (r.throughput) {
    rows.push({
      metric: 'peak RSS, fixed-rate phases',
      direct: fmtMB(beforeThroughput.emu.maxRss),
      bare: fmtMB(beforeThroughput.bare.maxRss),
      freeway: fmtMB(beforeThroughput.fw.maxRss),
      added: '—',
      target: 'info',
    });
  }
  const rssMet = last.fw.maxRss <= TARGETS.peakRssBytes;
  rows.push({
    metric: r.manyStreams ? 'peak RSS, whole run before the many-streams phase' : 'peak RSS, whole run',
    direct: fmtMB(last.emu.maxRss),
    bare: fmtMB(last.bare.maxRss),
    freeway: fmtMB(last.fw.maxRss),
    added: '—',
    target: `≤ ${fmtMB(TARGETS.peakRssBytes)}`,
    met: rssMet,
  });
  if (!rssMet) missed.push(`peak memory: ${fmtMB(last.fw.maxRss)} (target ≤ ${fmtMB(TARGETS.peakRssBytes)})`);
  if (r.manyStreams) {
    const m = r.manyStreams.freeway;
    const b = r.manyStreams.bare;
    const allMet = m.completed === m.streams;
    rows.push({
      metric: `${m.streams.toLocaleString('en-US')} concurrent streams, completed`,
      direct: '—',
      bare: `${b.completed}/${b.streams}`,
      freeway: `${m.completed}/${m.streams}`,
      added: '—',
      target: 'all',
      met: allMet,
    });
    if (!allMet) missed.push(`${m.streams - m.completed} of ${m.streams} concurrent streams failed (first: ${m.firstFailure ?? '?'})`);
    const ratio = m.peakRss / m.idleRss;
    const ratioMet = ratio < TARGETS.manyStreamsRssRatio;
    rows.push({
      metric: `peak RSS, ${m.streams.toLocaleString('en-US')} streams (idle before)`,
      direct: '—',
      bare: `${fmtMB(b.peakRss)} (${fmtMB(b.idleRss)}, ${(b.peakRss / b.idleRss).toFixed(2)}×)`,
      freeway: `${fmtMB(m.peakRss)} (${fmtMB(m.idleRss)}, ${ratio.toFixed(2)}×)`,
      added: '—',
      target: `< ${TARGETS.manyStreamsRssRatio}× idle`,
      met: ratioMet,
    });
    if (!ratioMet)
      missed.push(
        `many-streams memory: peak ${fmtMB(m.peakRss)} is ${ratio.toFixed(2)}× the idle ${fmtMB(m.idleRss)} (target < ${TARGETS.manyStreamsRssRatio}×)`,
      );
    notes.push(
      `many streams: ${m.streams} streamed requests at once, each on its own connection, held by the emulator until all had reached it, ` +
        `then answered, through Freeway, then through the bare forwarder; Freeway's part took ${(m.ms / 1000).toFixed(1)} s; RSS sampled every 10 ms from /proc; ` +
        `"idle" is the RSS just before the phase (after the others); against the RSS right after start-up (${fmtMB(s[0].fw.rss)}) the peak is ${(m.peakRss / s[0].fw.rss).toFixed(2)}×`,
    );
  }
  notes.push(
    'Freeway memory after each phase (RSS / peak RSS): ' +
      s
        .filter((x) => !x.after.startsWith('('))
        .map((x) => `${x.after}: ${fmtMB(x.fw.rss)} / ${fmtMB(x.fw.maxRss)}`)
        .join('; '),
  );
  // Counted from the first snapshot on: Freeway makes requests of its own at start-up (model discovery).
  const first = s[0];
  const sentDirect = last.sent.direct - first.sent.direct;
  const sentFreeway = last.sent.freeway - first.sent.freeway;
  const sentBare = last.sent.bare - first.sent.bare;
  const sentPeers = last.sent.peers - first.sent.peers;
  const emuGot = last.emu.requests - first.emu.requests;
  const agree = emuGot === sentDirect + sentFreeway + sentBare + sentPeers;
  notes.push(
    `${agree ? 'server-side request counts agree with the load generator' : 'WARNING: server-side request counts disagree with the load generator'}: ` +
      `emulator received ${emuGot} (expected ${sentDirect} direct + ${sentFreeway} via Freeway + ${sentBare} via the bare forwarder` +
      `${sentPeers > 0 ? ` + ${sentPeers} via peers` : ''})`,
  );
  return { table: renderTable(rows), notes, missed };
}

/** The cost phase's table: issue 14's ratio targets, each with whether it is met. */
async function costPhase(dir: string): Promise<string[]> {
  const r = await runCostPhase({ dir, quick: QUICK, callgrind: CALLGRIND, withPg: WITH_PG, log });
  const { rows, missed, notes } = costRows(r);
  console.log('\n## Per-request cost against the bare forwarder (issue 14 targets)\n');
  console.log(
    renderTable(
      rows.map((x) => ({ metric: x.metric, direct: '—', bare: x.bare, freeway: x.freeway, added: x.ratio, target: x.target, met: x.met })),
    ).replace('| added by Freeway', '| ratio           '),
  );
  console.log('');
  for (const n of notes) console.log(`- ${n}`);
  return missed;
}

/** The peers table: the bare forwarder, Freeway, then each peer gateway that ran, and why the others did not. */
function printPeers(r: Results): void {
  if (!r.stream && !r.throughput) return;
  const ok = (s: Sample[]) => s.filter((x) => x.ok);
  const own = (name: string, stream: Sample[] | undefined, cpuUs: number | undefined, tp: ClosedLoopTotals | undefined): PeerMeasure => ({
    name,
    ttfbMs: stream ? ok(stream).map((x) => x.ttfbMs) : undefined,
    streamCpuUs: stream && cpuUs !== undefined ? cpuUs / Math.max(1, stream.length) : undefined,
    ok: tp?.ok,
    ms: tp?.ms,
    cpuUs: tp?.cpuUs,
  });
  const rows = [
    own('bare forwarder', r.stream?.bare, r.stream?.bareCpuUs, r.throughput?.bare),
    own('Freeway', r.stream?.freeway, r.stream?.fwCpuUs, r.throughput?.freeway),
    ...r.peers.measures,
  ];
  const directTtfb = r.stream
    ? percentile(
        ok(r.stream.direct).map((x) => x.ttfbMs),
        50,
      )
    : undefined;
  console.log('\n## Beside the peers (same run, same emulator)\n');
  console.log(peersTable(rows, directTtfb, (xs) => percentile(xs, 50)));
  console.log('');
  console.log("- ratios are against the bare forwarder; CPU per stream is at the stream phase's fixed rate, each process's CPU from /proc");
  for (const s of r.peers.skipped) console.log(`- skipped ${s}`);
}

/** `freeway serve --workers 2` against one worker (bench/workers.ts), with issue 14's ≤ 1.1× target. */
async function workersPhase(): Promise<string[]> {
  log(
    `workers: 1 worker against 2 workers (and 2 with a per-key limit)${WITH_PG ? ', SQLite and PostgreSQL + Redis' : ''}, phases rotating`,
  );
  const { results, pgSkipped, fixedSkipped } = await workersScenario({ quick: QUICK, log, pg: WITH_PG });
  console.log(`\n## Workers: CPU per request against one worker (issue 14 target ≤ ${WORKERS_CPU_TARGET}×)\n`);
  console.log(workersTable(results));
  console.log('');
  console.log(
    '- CPU is every Freeway process of a setup (the primary and its workers) from /proc; the target is the fixed-rate column, ' +
      'each setup against 1 worker on the same store',
  );
  if (pgSkipped) console.log(`- PostgreSQL + Redis skipped: ${pgSkipped}`);
  if (fixedSkipped.skipped > 0)
    console.log(`- the fixed rate was not kept: ${fixedSkipped.skipped} of ${fixedSkipped.ticks} ticks skipped (64 rounds in flight)`);
  return workersMissed(results);
}

/** The dashboard in a real browser with a year of generation records (bench/dashboard.ts), with issue 13's targets. */
async function dashboardPhase(): Promise<string[]> {
  log('dashboard: a year of activity, the Activity page in chromium');
  const results = await dashboardScenario({ quick: QUICK, log });
  const { rows, missed } = dashboardRows(results);
  console.log(`\n## Dashboard: time to interactive and first-load size (issue 13 targets < ${INTERACTIVE_TARGET_MS} ms, < 250 KB)\n`);
  console.log(renderDashboardTable(rows));
  return missed;
}

async function main(dir: string): Promise<void> {
  const started = performance.now();
  const machine =
    `Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'} · ${process.platform}/${process.arch}` +
    (FREEWAY_NODE_ARGS.length > 0 ? ` · Freeway node options: ${FREEWAY_NODE_ARGS.join(' ')}` : '');
  log(`${machine}${QUICK ? ' · quick run' : ''}`);
  if ([...RUN].every((p) => OWN_SETUP.includes(p))) {
    console.log(`\n## Freeway benchmark${QUICK ? ' (quick)' : ''}\n\n${machine}`);
    const missed = RUN.has('cost') ? await costPhase(dir) : [];
    if (RUN.has('workers')) missed.push(...(await workersPhase()));
    if (RUN.has('dashboard')) missed.push(...(await dashboardPhase()));
    console.log(`\n(run took ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const list = missed.map((m) => `  - ${m}`).join('\n');
    console.log(missed.length === 0 ? 'All targets met.' : `MISSED ${missed.length} target(s):\n${list}`);
    return;
  }
  const emu = await Child.start<{ url: string; apiKey: string }>('emulator', './emulator-child.ts');
  const profDir = PROFILE ? mkdtempSync(join(tmpdir(), 'freeway-bench-profile-')) : undefined;
  const fw = await FreewayProcess.start({
    emulatorUrl: emu.info.url,
    emulatorKey: emu.info.apiKey,
    dir,
    nodeArgs: [...FREEWAY_NODE_ARGS, ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=250'] : [])],
  });
  const bareFw = await Child.start<{ url: string }>('bare forwarder', './bare-forwarder-child.ts', {
    args: [emu.info.url, emu.info.apiKey],
  });
  const withPeers = RUN.has('stream') || RUN.has('throughput');
  const peers = withPeers
    ? await startPeers({ dir, emu: emu.info, connections: PLAN.concurrency, log })
    : { peers: [], skipped: ['not measured (the stream and throughput phases were not run)'] };
  log(
    `emulator ${emu.info.url} (pid ${emu.proc.pid}), Freeway ${fw.info.url} (pid ${fw.proc.pid}), bare forwarder ${bareFw.info.url} (pid ${bareFw.proc.pid})`,
  );

  const common = { connections: PLAN.concurrency };
  const direct = makeTarget({
    ...common,
    name: 'direct',
    origin: emu.info.url,
    path: '/v1/chat/completions',
    apiKey: emu.info.apiKey,
    model: 'gpt-4o-mini',
  });
  const freeway = makeTarget({
    ...common,
    name: 'Freeway',
    origin: fw.info.url,
    path: '/api/v1/chat/completions',
    apiKey: fw.info.key,
    model: 'openai/gpt-4o-mini',
  });
  const bare = makeTarget({
    ...common,
    name: 'bare forwarder',
    origin: bareFw.info.url,
    path: '/v1/chat/completions',
    apiKey: 'none',
    model: 'openai/gpt-4o-mini',
  });
  let results: Results;
  try {
    await sanityCheck(direct);
    await sanityCheck(freeway);
    await sanityCheck(bare);
    const started: Peer[] = [];
    for (const p of peers.peers) {
      try {
        await sanityCheck(p.target);
        started.push(p);
      } catch (err) {
        peers.skipped.push(`${p.name}: ${(err as Error).message}`);
        await p.stop();
      }
    }
    results = await measure(emu, fw, bareFw, direct, freeway, bare, { started, skipped: peers.skipped });
  } finally {
    await Promise.allSettled(peers.peers.flatMap((p) => [p.target.pool.destroy(), p.stop()]));
    await Promise.allSettled([direct.pool.destroy(), freeway.pool.destroy(), bare.pool.destroy()]);
    await Promise.allSettled([fw.stop(), emu.stop(), bareFw.stop()]);
  }
  const { table, notes, missed } = report(results);
  console.log(`\n## Freeway overhead benchmark${QUICK ? ' (quick)' : ''}\n`);
  console.log(`${machine} · run took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  console.log(table);
  console.log('');
  for (const n of notes) console.log(`- ${n}`);
  printPeers(results);
  if (RUN.has('cost')) missed.push(...(await costPhase(dir)));
  if (RUN.has('workers')) missed.push(...(await workersPhase()));
  if (RUN.has('dashboard')) missed.push(...(await dashboardPhase()));
  console.log('');
  if (missed.length === 0) console.log('All targets met.');
  else {
    console.log(`MISSED ${missed.length} target(s):`);
    for (const m of missed) console.log(`  - ${m}`);
  }
  if (profDir) {
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) console.log(`\n(no CPU profile was written to ${profDir})`);
    for (const f of files) console.log(`\n${summariseProfile(join(profDir, f), 30)}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'freeway-bench-'));
const cleanUp = () => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanUp);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanUp();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  log(`gave up after ${PLAN.watchdogMs / 1000} s`);
  cleanUp();
  process.exit(1);
}, PLAN.watchdogMs);
watchdog.unref();
try {
  await main(dir);
} catch (err) {
  log(`benchmark failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  cleanUp();
}
