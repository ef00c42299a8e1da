/**
 * `node bench/workers.ts [--quick] [--no-pg] [--baseline=DIR]`: `freeway serve --workers N` against one
 * process, on this machine's cores. For each setup it starts Freeway as `npm start` does (built
 * JavaScript, the start command's Node options, SQLite in a temp dir), saturates it with 64
 * keep-alive connections of non-streaming requests against the OpenAI emulator, and reads the CPU
 * time of every Freeway process (the primary and its workers) from /proc:
 *   - 1 worker (one process, the default)
 *   - 2 workers (a primary and two workers on one SQLite file)
 *   - 2 workers whose key has a requests-per-minute limit (decided by the primary, which hands
 *     each worker blocks of the allowance)
 *   - 1 worker and 2 workers on PostgreSQL + Redis (the test services, a schema of its own each,
 *     dropped after; bench/pg-store.ts), unless `--no-pg` or the services do not start
 * Phases rotate (1, 2, 2+limit, 1 PG, 2 PG, 1, 2, ...) so drift on a shared machine hits all alike.
 * Prints throughput and CPU per request, the primary's own CPU per request (what deciding limits
 * costs it), and the ratio to one worker of the same store (target: ≤ 1.1×). `--baseline=DIR` adds the two 2-worker setups
 * run from another checkout (its built dist/), in the same rotation: a fair A/B on a noisy
 * machine. `workersScenario` is exported for `npm run bench`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, killAll, track } from './children.ts';
import { ADMIN_KEY, freePort, procStats } from './freeway-process.ts';
import { closedLoop, interleavedFixedRate, makeTarget } from './load.ts';
import { PgSchemas } from './pg-store.ts';
import { fmtRate, sleep } from './stats.ts';

const ROOT = join(import.meta.dirname, '..');
/**
 * Requests per second to all setups together in the fixed-rate phase, shared equally (400 each for
 * the three SQLite setups, 240 with the PostgreSQL pair): what the two cores here keep up with
 * beside the load generator, so the rate is the one asked for (skipped ticks are reported).
 */
const FIXED_TOTAL_RATE = 1_200;

/** The pids of `pid` and every process below it (a primary and its workers). */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // Gone between listing and reading.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

function treeCpuUs(pid: number): number {
  return tree(pid).reduce((sum, p) => {
    try {
      return sum + procStats(p).cpuUs;
    } catch {
      return sum;
    }
  }, 0);
}

interface Setup {
  name: string;
  workers: number;
  rpm?: number;
  /** SQLite in a temp dir (default), or PostgreSQL + Redis: ratios are against 1 worker of the same store. */
  store?: 'sqlite' | 'pg';
  /** The checkout to run Freeway from (default this one). */
  root?: string;
}

interface Running {
  setup: Setup;
  proc: ChildProcess;
  url: string;
  key: string;
  dir: string;
}

function startCommandOptions(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  return words.slice(1, words.indexOf('bin/freeway.js'));
}

async function start(setup: Setup, emu: { url: string; apiKey: string }, schemas: PgSchemas): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'freeway-bench-workers-'));
  const port = await freePort();
  const cli = [join(setup.root ?? ROOT, 'bin', 'freeway.js'), 'serve', '--port', String(port), '--workers', String(setup.workers)];
  const args = [...startCommandOptions(), ...cli];
  const proc = spawn(process.execPath, args, {
    cwd: dir,
    env: {
      ...process.env,
      OPENAI_API_KEY: emu.apiKey,
      OPENAI_BASE_URL: `${emu.url}/v1`,
      DATABASE_URL: join(dir, 'freeway.db'),
      FREEWAY_ADMIN_KEY: ADMIN_KEY,
      FREEWAY_LOG: 'silent',
      // Its own schema; its key's rate counts in Redis are under the key's hash (see pg-store.ts).
      ...(setup.store === 'pg' ? schemas.env() : {}),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  track(proc);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  // Ready once every worker has the emulator's models (each discovers them after listening).
  let ready = 0;
  while (ready < 20) {
    if (proc.exitCode !== null) throw new Error(`freeway exited during start-up (code ${proc.exitCode})`);
    const models = await fetch(`${url}/api/v1/models`).then(
      (r) => (r.ok ? (r.json() as Promise<{ data: unknown[] }>) : undefined),
      () => undefined,
    );
    ready = models && models.data.length > 0 ? ready + 1 : 0;
    if (Date.now() > deadline) throw new Error('freeway did not start within 30 s');
    await sleep(ready > 0 ? 5 : 50);
  }
  const res = await fetch(`${url}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', ...(setup.rpm ? { requests_per_minute: setup.rpm } : {}) }),
  });
  if (!res.ok) throw new Error(`creating a key failed with ${res.status}: ${await res.text()}`);
  const { key } = (await res.json()) as { key: string };
  return { setup, proc, url, key, dir };
}

async function stop(r: Running): Promise<void> {
  if (r.proc.exitCode === null) {
    const exited = new Promise<void>((resolve) => r.proc.once('exit', () => resolve()));
    r.proc.kill('SIGTERM');
    const timer = setTimeout(() => r.proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(r.dir, { recursive: true, force: true });
}

function target(r: Running) {
  const path = '/api/v1/chat/completions';
  return makeTarget({ name: r.setup.name, origin: r.url, path, apiKey: r.key, model: 'openai/gpt-4o-mini', connections: 64 });
}

export interface WorkersResult {
  setup: Setup;
  /** Saturated (closed loop, 64 connections), summed over the rotating phases. */
  requests: number;
  errors: number;
  elapsedMs: number;
  cpuUs: number;
  /** At a fixed rate below saturation (every setup in the same phase): requests and CPU (all, and the primary's own). */
  fixed: { rate: number; requests: number; cpuUs: number; primaryUs: number };
}

export interface WorkersRun {
  results: WorkersResult[];
  /** Why the PostgreSQL + Redis setups are not among the results, when they are not. */
  pgSkipped?: string;
  /** Ticks of the fixed-rate phase skipped (64 rounds in flight: the machine did not keep up), of all ticks. */
  fixedSkipped: { skipped: number; ticks: number };
}

/** Runs the rotating phases; one result per setup, summed over its phases. */
export async function workersScenario(
  opts: { quick?: boolean; log?: (s: string) => void; baseline?: string; pg?: boolean } = {},
): Promise<WorkersRun> {
  const log = opts.log ?? (() => {});
  const setups: Setup[] = [
    { name: '1 worker', workers: 1 },
    { name: '2 workers', workers: 2 },
    // High enough never to refuse: the cost measured is deciding the limit, not refusing.
    { name: '2 workers, key rpm limit', workers: 2, rpm: 100_000_000 },
  ];
  if (opts.baseline) {
    setups.push(
      { name: '2 workers (baseline)', workers: 2, root: opts.baseline },
      { name: '2 workers, key rpm limit (baseline)', workers: 2, rpm: 100_000_000, root: opts.baseline },
    );
  }
  const pgSetups: Setup[] =
    opts.pg === false
      ? []
      : [
          { name: '1 worker, PostgreSQL + Redis', workers: 1, store: 'pg' },
          { name: '2 workers, PostgreSQL + Redis', workers: 2, store: 'pg' },
        ];
  let pgSkipped = opts.pg === false ? 'not asked for (--no-pg)' : undefined;
  const rounds = opts.quick ? 1 : 3;
  const phaseMs = opts.quick ? 2_000 : 5_000;
  const emu = await Child.start<{ url: string; apiKey: string }>('emulator', './emulator-child.ts');
  const running: Running[] = [];
  const schemas = new PgSchemas();
  try {
    for (const s of setups) running.push(await start(s, emu.info, schemas));
    const pgRunning: Running[] = [];
    try {
      for (const s of pgSetups) pgRunning.push(await start(s, emu.info, schemas));
      running.push(...pgRunning);
      setups.push(...pgSetups);
    } catch (err) {
      pgSkipped = `did not start (${(err as Error).message})`;
      log(`workers: PostgreSQL + Redis ${pgSkipped}; SQLite only`);
      await Promise.all(pgRunning.map(stop));
      await schemas.dropAll();
    }
    const fixedRate = Math.round(FIXED_TOTAL_RATE / running.length);
    const empty = (s: Setup): WorkersResult => ({
      setup: s,
      requests: 0,
      errors: 0,
      elapsedMs: 0,
      cpuUs: 0,
      fixed: { rate: fixedRate, requests: 0, cpuUs: 0, primaryUs: 0 },
    });
    const results = new Map<Setup, WorkersResult>(setups.map((s) => [s, empty(s)]));
    for (const r of running) {
      const warm = target(r);
      await closedLoop(warm, { concurrency: 64, durationMs: opts.quick ? 500 : 2_000 });
      await warm.pool.close();
    }
    // Fixed rate first: every setup at once, one request each per tick, so none is saturated and
    // the CPU per request compares the work itself, not how the cores were shared.
    const targets = running.map((r) => target(r));
    const before = running.map((r) => treeCpuUs(r.proc.pid!));
    const primaryBefore = running.map((r) => procStats(r.proc.pid!).cpuUs);
    const fixedMs = opts.quick ? 3_000 : 10_000;
    const fixed = await interleavedFixedRate(targets, { rate: fixedRate, durationMs: fixedMs, stream: false });
    const fixedSkipped = { skipped: fixed.skipped, ticks: Math.floor((fixedMs * fixedRate) / 1000) };
    log(`fixed rate: ${fixedSkipped.skipped} of ${fixedSkipped.ticks} ticks skipped (every setup at once)`);
    running.forEach((r, i) => {
      const acc = results.get(r.setup)!;
      acc.fixed.requests = fixed.samples[i].filter((x) => x.ok).length;
      acc.fixed.cpuUs = treeCpuUs(r.proc.pid!) - before[i];
      acc.fixed.primaryUs = procStats(r.proc.pid!).cpuUs - primaryBefore[i];
      const per = (us: number) => (us / Math.max(1, acc.fixed.requests)).toFixed(0);
      log(`${r.setup.name} at ${fixedRate} req/s: ${per(acc.fixed.cpuUs)} µs CPU per request (primary ${per(acc.fixed.primaryUs)} µs)`);
    });
    await Promise.all(targets.map((t) => t.pool.close()));
    for (let round = 0; round < rounds; round++) {
      for (const r of running) {
        const t = target(r);
        const before = treeCpuUs(r.proc.pid!);
        const out = await closedLoop(t, { concurrency: 64, durationMs: phaseMs });
        const cpu = treeCpuUs(r.proc.pid!) - before;
        await t.pool.close();
        const acc = results.get(r.setup)!;
        acc.requests += out.ok;
        acc.errors += out.errors;
        acc.elapsedMs += out.elapsedMs;
        acc.cpuUs += cpu;
        log(`${r.setup.name}: ${fmtRate((out.ok * 1000) / out.elapsedMs)}, ${(cpu / Math.max(1, out.ok)).toFixed(0)} µs CPU per request`);
      }
    }
    return { results: setups.map((s) => results.get(s)!), pgSkipped, fixedSkipped };
  } finally {
    await Promise.all(running.map(stop));
    await schemas.dropAll();
    await emu.stop();
  }
}

/** Issue 14's target for N workers: CPU per request at most this many times one worker's. */
export const WORKERS_CPU_TARGET = 1.1;

/** What a setup's ratios are against: one worker (of this checkout) on the same store; undefined for that one itself. */
function baseOf(results: readonly WorkersResult[], r: WorkersResult): WorkersResult | undefined {
  const store = r.setup.store ?? 'sqlite';
  const base = results.find((b) => (b.setup.store ?? 'sqlite') === store && b.setup.workers === 1 && !b.setup.root && !b.setup.rpm);
  return base === r ? undefined : base;
}

/** The setups over the target (CPU per request at the fixed rate against one worker's of the same store), as sentences. */
export function workersMissed(results: readonly WorkersResult[]): string[] {
  const perFixed = (r: WorkersResult) => r.fixed.cpuUs / Math.max(1, r.fixed.requests);
  const out: string[] = [];
  for (const r of results) {
    const base = baseOf(results, r);
    if (!base) continue;
    const ratio = perFixed(r) / perFixed(base);
    if (!(ratio <= WORKERS_CPU_TARGET))
      out.push(`${r.setup.name}: ${ratio.toFixed(2)}× ${base.setup.name}'s CPU per request (target ≤ ${WORKERS_CPU_TARGET}×)`);
  }
  return out;
}

/** A Markdown table: throughput, CPU per request over all Freeway processes, and the ratio to one worker of the same store. */
export function workersTable(results: readonly WorkersResult[]): string {
  const perReq = (r: WorkersResult) => r.cpuUs / Math.max(1, r.requests);
  const perFixed = (r: WorkersResult) => r.fixed.cpuUs / Math.max(1, r.fixed.requests);
  const head = [
    'setup',
    `CPU per request @ ${results[0]?.fixed.rate ?? 0} req/s`,
    'vs 1 worker (target ≤ 1.1×)',
    'of which the primary',
    'throughput, saturated (64 conns)',
    'CPU per request, saturated',
    'vs 1 worker',
    'errors',
  ];
  const ratio = (a: number, b: number, target: boolean) =>
    `${(a / b).toFixed(2)}×${target ? (a / b <= WORKERS_CPU_TARGET ? ' yes' : ' **NO**') : ''}`;
  const cells = results.map((r) => {
    const base = baseOf(results, r);
    return [
      r.setup.name,
      `${perFixed(r).toFixed(0)} µs`,
      base ? ratio(perFixed(r), perFixed(base), true) : '—',
      r.setup.workers > 1 ? `${(r.fixed.primaryUs / Math.max(1, r.fixed.requests)).toFixed(0)} µs` : '—',
      fmtRate((r.requests * 1000) / r.elapsedMs),
      `${perReq(r).toFixed(0)} µs`,
      base ? ratio(perReq(r), perReq(base), false) : '—',
      String(r.errors),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((s, i) => s.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

if (import.meta.main) {
  const quick = process.argv.includes('--quick');
  const baseline = process.argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
  try {
    const pg = !process.argv.includes('--no-pg');
    const { results, pgSkipped } = await workersScenario({ quick, baseline, pg, log: (s) => console.error(s) });
    console.log(workersTable(results));
    if (pgSkipped) console.log(`\nPostgreSQL + Redis skipped: ${pgSkipped}`);
  } finally {
    killAll();
  }
}
