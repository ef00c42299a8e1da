/**
 * Per-request cost, the numbers issue 14's targets are ratios of: CPU time per request (from
 * /proc, from outside the process) and, with `--callgrind`, instructions per request counted by
 * valgrind over a fixed number of requests after a fixed warm-up, one at a time on one connection
 * (CALLGRIND_LOAD: the same work every run, so the count is noise-free on a shared machine) — for
 * Freeway and for the bare forwarder, non-streaming and streaming (20 chunks), plus the added time
 * to the first streamed byte. With `--store=pg` Freeway runs on PostgreSQL + Redis (the test
 * services, in a schema of its own that is dropped after).
 *
 *   node bench/cost.ts [--scenario=plain,stream,ttfb] [--requests=N] [--rounds=N] [--concurrency=N]
 *                      [--store=sqlite|pg|both] [--callgrind] [--profile] [--baseline=<checkout>] [--ops] [--keep]
 *                      [--freeway-arg=<node option>]… [--warmup=N (callgrind)]
 *
 * `--baseline` also runs a Freeway from another checkout (with its node_modules) in the same
 * rotation: the fair A/B on a machine whose load drifts. `--ops` also runs a Freeway with logging
 * (info, JSON) and metrics on and one with both off (issue 12's cost of operations). `--keep` leaves
 * the run's directory (callgrind dumps, the database) in place and prints where it is.
 *
 * The functions are also the `cost` phase of `npm run bench` (bench/run.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildStats } from './child-ipc.ts';
import { Child, killAll } from './children.ts';
import { FreewayProcess } from './freeway-process.ts';
import { makeTarget, send } from './load.ts';
import type { Target } from './load.ts';
import { PgSchemas } from './pg-store.ts';
import { percentile } from './stats.ts';

/** What one measured path is: a load target and where its process's counters are read. */
export interface CostPath {
  target: Target;
  pid: number;
  stats: () => Promise<ChildStats>;
  /** The callgrind output file prefix when the process runs under valgrind. */
  callgrindOut?: string;
}

/** Sends exactly `n` requests from `concurrency` workers. */
export async function fixedCount(t: Target, n: number, concurrency: number, stream: boolean): Promise<number> {
  let left = n;
  let failed = 0;
  const worker = async () => {
    while (left > 0) {
      left--;
      if (!(await send(t, stream)).ok) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

/**
 * CPU µs per request for each path: `rounds` rounds of `n` requests, the paths' order rotating
 * each round so drift on a shared machine touches all alike. Throws if a request fails.
 */
export async function cpuPerRequest(
  paths: readonly CostPath[],
  opts: { n: number; rounds: number; concurrency: number; stream: boolean },
): Promise<number[]> {
  const us = paths.map(() => 0);
  const sys = paths.map(() => 0);
  for (let round = 0; round < opts.rounds; round++) {
    for (let k = 0; k < paths.length; k++) {
      const i = (round + k) % paths.length;
      const p = paths[i];
      const before = await p.stats();
      const failed = await fixedCount(p.target, opts.n, opts.concurrency, opts.stream);
      const after = await p.stats();
      if (failed > 0) throw new Error(`${p.target.name}: ${failed} of ${opts.n} requests failed`);
      us[i] += after.cpuUs - before.cpuUs;
      sys[i] += after.sysUs - before.sysUs;
    }
  }
  lastSysShare = sys.map((x, i) => x / Math.max(1, us[i]));
  return us.map((x) => x / (opts.n * opts.rounds));
}

/** The kernel's share of each path's CPU time in the last `cpuPerRequest`. */
export let lastSysShare: number[] = [];

/** Median time to the first `data:` byte of a stream, per target, one request at a time, interleaved. */
export async function ttfbP50(targets: readonly Target[], n: number): Promise<number[]> {
  const samples: number[][] = targets.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < targets.length; k++) {
      const j = (i + k) % targets.length;
      const s = await send(targets[j], true);
      if (s.ok) samples[j].push(s.ttfbMs);
    }
  }
  return samples.map((s) => percentile(s, 50));
}

/** The valgrind command a process runs under to count its instructions (counting starts zeroed by `instructions`). */
export function callgrindWrap(outPrefix: string): string[] {
  const out = `--callgrind-out-file=${outPrefix}.%p`;
  return ['valgrind', '--tool=callgrind', out, '--dump-line=no', '--compress-strings=no', '--trace-children=no'];
}

/**
 * The newest dump of `pid` (files `<prefix>.<pid>.<dump>`) and its count, all threads together:
 * the newest, not the largest, so a scenario counted after another reads its own.
 */
export function newestDump(outPrefix: string, pid: number): { file: string; total: number } {
  const dir = join(outPrefix, '..');
  const base = `${outPrefix.slice(dir.length + 1)}.${pid}.`;
  let newest = -1;
  let found = { file: '', total: 0 };
  for (const f of readdirSync(dir).filter((x) => x.startsWith(base))) {
    const n = /^\d+$/.test(f.slice(base.length)) ? Number(f.slice(base.length)) : -1;
    if (n < newest) continue;
    const m = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(join(dir, f), 'utf8'));
    if (m) {
      newest = n;
      found = { file: join(dir, f), total: Number(m[1]) };
    }
  }
  return found;
}

/**
 * V8's entry points into its compilers: under --predictable (CALLGRIND_NODE_ARGS) every
 * compilation runs inside one of them on the main thread, so their inclusive counts are what the
 * JIT cost in the counted window — optimising (Maglev, TurboFan, after a deoptimisation too) and
 * compiling functions on their first call.
 */
const JIT_ENTRIES = [/^\?\?\?:v8::internal::Compiler::CompileOptimized\(/, /^\?\?\?:Builtins_CompileLazy \[/];

/** Instructions of a callgrind dump spent compiling JavaScript (callgrind_annotate, inclusive). */
export function jitInstructions(dumpFile: string): number {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', '--auto=no', '--inclusive=yes', dumpFile], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  let jit = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$/.exec(line);
    if (m && JIT_ENTRIES.some((re) => re.test(m[2]))) jit += Number(m[1].replaceAll(',', ''));
  }
  return jit;
}

/**
 * The load instructions are counted under: fixed and one request at a time on one connection, so
 * two runs at the same commit do the same work. Concurrent requests would not: how many
 * settlements share one SQLite commit (group-commit.ts) depends on timing, and that alone moved
 * Freeway's count by a fifth between runs. What is left is the JIT: after this warm-up both
 * processes still optimise and deoptimise functions inside the counted window (measured: the
 * forwarder compiling for 30-70 % of its count; with a 3,000-request warm-up, more rather than
 * less). So the report also gives each count without the instructions spent compiling
 * (jitInstructions): the serving work, which is what the ratio is meant to compare.
 */
export const CALLGRIND_LOAD = { warmup: 500, count: 300 } as const;

/**
 * Node options of the processes counted under callgrind: V8's predictable mode runs compilation
 * and garbage collection on the main thread in a fixed order instead of on background threads as
 * they happen to be scheduled. Measured: two runs agree on the forwarder within 0.1 % (without it
 * the forwarder's count moved between 0.53 M and 1.39 M per request across runs).
 */
export const CALLGRIND_NODE_ARGS: readonly string[] = ['--predictable', '--predictable-gc-schedule'];

/** Warms each path (non-streaming, then streaming) with the fixed callgrind load. */
export async function warmForCallgrind(paths: readonly CostPath[], warmup: number = CALLGRIND_LOAD.warmup): Promise<void> {
  for (const p of paths) {
    for (const stream of [false, true]) {
      // A slow first request (compiling, under valgrind, on a busy machine) may time out: warm-up only.
      const failed = await fixedCount(p.target, warmup, 1, stream);
      if (failed > 0) process.stderr.write(`[cost] ${p.target.name}: ${failed} of ${warmup} warm-up requests failed\n`);
    }
  }
}

/**
 * Instructions per request for each path (each must run under `callgrindWrap`, its target on one
 * connection): the counters are zeroed after the caller's warm-up (warmForCallgrind), `n`
 * requests sent one after another, and the counters dumped.
 */
export async function instructionsPerRequest(
  paths: readonly CostPath[],
  opts: { n: number; stream: boolean },
): Promise<InstructionCount[]> {
  const out: InstructionCount[] = [];
  for (const p of paths) {
    if (!p.callgrindOut) throw new Error(`${p.target.name} is not running under callgrind`);
    execFileSync('callgrind_control', ['--zero', String(p.pid)], { stdio: 'ignore' });
    const failed = await fixedCount(p.target, opts.n, 1, opts.stream);
    if (failed > 0) throw new Error(`${p.target.name}: ${failed} of ${opts.n} requests failed`);
    execFileSync('callgrind_control', ['--dump=bench', String(p.pid)], { stdio: 'ignore' });
    const dump = newestDump(p.callgrindOut, p.pid);
    out.push({ perRequest: dump.total / opts.n, jitPerRequest: jitInstructions(dump.file) / opts.n });
  }
  return out;
}

/** Instructions per request, and how many of them the JIT spent compiling (jitInstructions). */
export interface InstructionCount {
  perRequest: number;
  jitPerRequest: number;
}

/** Calling the emulator itself, one connection: what TTFB is added to. */
function directTarget(setup: CostSetup): Target {
  const { url, apiKey } = setup.emu.info;
  return makeTarget({ connections: 1, name: 'direct', origin: url, path: '/v1/chat/completions', apiKey, model: 'gpt-4o-mini' });
}

/** Everything a cost run starts: the emulator, the bare forwarder, one Freeway per store. */
export interface CostSetup {
  emu: Child<{ url: string; apiKey: string }>;
  bare: CostPath;
  freeway: { store: 'sqlite' | 'pg'; path: CostPath; fw: FreewayProcess }[];
  /** Two more Freeways on SQLite: operations on as an operator runs them, and off (issue 12's cost). */
  ops?: { on: CostPath; off: CostPath };
  stop(): Promise<void>;
}

export async function startCost(opts: {
  dir: string;
  stores: ('sqlite' | 'pg')[];
  callgrind: boolean;
  nodeArgs?: string[];
  /** Also a Freeway (on the last store named) from this checkout: an A/B comparison in the same run. */
  baseline?: string;
  /** Also the ops-on / ops-off pair (see `CostSetup.ops`). */
  opsPair?: boolean;
}): Promise<CostSetup> {
  const emu = await Child.start<{ url: string; apiKey: string }>('emulator', './emulator-child.ts');
  const cg = (name: string) => (opts.callgrind ? join(opts.dir, `callgrind-${name}`) : undefined);
  const bareOut = cg('bare');
  const bareChild = await Child.start<{ url: string }>('bare forwarder', './bare-forwarder-child.ts', {
    args: [emu.info.url, emu.info.apiKey],
    wrap: bareOut ? callgrindWrap(bareOut) : undefined,
    execArgv: opts.callgrind ? [...CALLGRIND_NODE_ARGS] : [],
    timeoutMs: opts.callgrind ? 300_000 : 15_000,
  });
  // Under callgrind, one connection: the counted load is sequential (CALLGRIND_LOAD).
  const conns = { connections: opts.callgrind ? 1 : 16 };
  const bare: CostPath = {
    target: makeTarget({
      ...conns,
      name: 'bare forwarder',
      origin: String(bareChild.info.url),
      path: '/v1/chat/completions',
      apiKey: 'none',
      model: 'openai/gpt-4o-mini',
    }),
    pid: bareChild.proc.pid!,
    stats: () => bareChild.stats(),
    callgrindOut: bareOut,
  };
  const schemas = new PgSchemas();
  const freeway: CostSetup['freeway'] = [];
  const runs: { store: 'sqlite' | 'pg'; root?: string }[] = opts.stores.map((store) => ({ store }));
  if (opts.baseline) runs.push({ store: opts.stores[opts.stores.length - 1], root: opts.baseline });
  const fws: FreewayProcess[] = [];
  const startOne = async (o: {
    store: 'sqlite' | 'pg';
    name: string;
    root?: string;
    env: Record<string, string>;
    stderrFile?: string;
    configYaml?: string;
  }) => {
    const out = cg(`freeway-${o.name.replace(/\W+/g, '-')}`);
    const dir = mkdtempSync(join(opts.dir, `fw-${o.store}-`));
    const fw = await FreewayProcess.start({
      emulatorUrl: emu.info.url,
      emulatorKey: emu.info.apiKey,
      dir,
      nodeArgs: [...(opts.callgrind ? CALLGRIND_NODE_ARGS : []), ...(opts.nodeArgs ?? [])],
      env: o.env,
      wrap: out ? callgrindWrap(out) : undefined,
      startupMs: opts.callgrind ? 300_000 : 30_000,
      root: o.root,
      stderrFile: o.stderrFile,
      configYaml: o.configYaml,
    });
    fws.push(fw);
    const target = makeTarget({
      ...conns,
      name: o.name,
      origin: fw.info.url,
      path: '/api/v1/chat/completions',
      apiKey: fw.info.key,
      model: 'openai/gpt-4o-mini',
    });
    return { fw, path: { target, pid: fw.proc.pid!, stats: () => fw.stats(), callgrindOut: out } as CostPath };
  };
  // The ops pair. On: as an operator runs it — JSON access lines at info through the normal stderr
  // path (to /dev/null, so the disk is not measured), metrics on (the default). Off: silent, no metrics.
  const startOps = async (): Promise<CostSetup['ops']> => {
    const on = await startOne({
      store: 'sqlite',
      name: 'Freeway, ops on',
      env: { FREEWAY_LOG: 'info', FREEWAY_LOG_FORMAT: 'json' },
      stderrFile: '/dev/null',
    });
    const off = await startOne({
      store: 'sqlite',
      name: 'Freeway, ops off',
      env: { FREEWAY_LOG: 'silent' },
      configYaml: 'metrics:\n  enabled: false\n',
    });
    return { on: on.path, off: off.path };
  };
  let ops: CostSetup['ops'];
  try {
    for (const { store, root } of runs) {
      const env: Record<string, string> = store === 'pg' ? schemas.env() : {};
      const { fw, path } = await startOne({ store, name: root ? `baseline (${store})` : `Freeway (${store})`, root, env });
      freeway.push({ store, fw, path });
    }
    if (opts.opsPair) ops = await startOps();
  } catch (err) {
    // A Freeway that did not start leaves nothing behind: its schema goes with the others.
    await Promise.allSettled([emu.stop(), bareChild.stop(), ...fws.map((f) => f.stop())]);
    await schemas.dropAll();
    throw err;
  }
  return {
    emu,
    bare,
    freeway,
    ops,
    async stop() {
      const all = [bare, ...freeway.map((f) => f.path), ...(ops ? [ops.on, ops.off] : [])];
      await Promise.allSettled(all.map((p) => p.target.pool.destroy()));
      await Promise.allSettled([emu.stop(), bareChild.stop(), ...fws.map((f) => f.stop())]);
      await schemas.dropAll();
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
  const scenarios = arg('scenario', 'plain,stream,ttfb').split(',');
  const n = Number(arg('requests', '400'));
  // Counting instructions, the fixed load unless a count is asked for (CALLGRIND_LOAD).
  const callgrindCount = args.some((a) => a.startsWith('--requests=')) ? n : CALLGRIND_LOAD.count;
  const rounds = Number(arg('rounds', '3'));
  const concurrency = Number(arg('concurrency', '8'));
  const storeArg = arg('store', 'sqlite');
  const stores: ('sqlite' | 'pg')[] = storeArg === 'both' ? ['sqlite', 'pg'] : [storeArg as 'sqlite' | 'pg'];
  const callgrind = args.includes('--callgrind');
  const dir = mkdtempSync(join(tmpdir(), 'freeway-cost-'));
  const profDir = args.includes('--profile') ? mkdtempSync(join(tmpdir(), 'freeway-cost-profile-')) : undefined;
  const nodeArgs = [
    ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=100'] : []),
    ...args.filter((a) => a.startsWith('--freeway-arg=')).map((a) => a.slice('--freeway-arg='.length)),
  ];
  const baseline = args.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
  const opsPair = args.includes('--ops');
  const setup = await startCost({ dir, stores, callgrind, nodeArgs, baseline, opsPair });
  try {
    const paths = [setup.bare, ...setup.freeway.map((f) => f.path), ...(setup.ops ? [setup.ops.on, setup.ops.off] : [])];
    const names = paths.map((p) => p.target.name);
    if (callgrind) await warmForCallgrind(paths, Number(arg('warmup', String(CALLGRIND_LOAD.warmup))));
    else {
      for (const p of paths) {
        await fixedCount(p.target, 500, concurrency, false);
        await fixedCount(p.target, 500, concurrency, true);
      }
    }
    const show = (what: string, v: number[], unit: string) =>
      console.log(`${what.padEnd(22)} ${v.map((x, i) => `${names[i]} ${x.toFixed(0)} ${unit} (${(x / v[0]).toFixed(2)}×)`).join('  ')}`);
    for (const s of scenarios) {
      if (s === 'ttfb') {
        const direct = directTarget(setup);
        const t = await ttfbP50([direct, ...paths.map((p) => p.target)], callgrind ? 20 : 300);
        console.log(
          `TTFB p50 added         ${t
            .slice(1)
            .map((x, i) => `${names[i]} +${(x - t[0]).toFixed(3)} ms`)
            .join('  ')}`,
        );
        await direct.pool.destroy();
        continue;
      }
      const stream = s === 'stream';
      if (callgrind) {
        const counts = await instructionsPerRequest(paths, { n: callgrindCount, stream });
        show(
          `instructions/${s}`,
          counts.map((c) => c.perRequest),
          'instr',
        );
        show(
          `  without JIT/${s}`,
          counts.map((c) => c.perRequest - c.jitPerRequest),
          'instr',
        );
      } else {
        show(`CPU/${s}`, await cpuPerRequest(paths, { n, rounds, concurrency, stream }), 'µs');
        console.log(`${''.padEnd(22)} kernel share: ${lastSysShare.map((x, i) => `${names[i]} ${Math.round(100 * x)}%`).join('  ')}`);
      }
    }
    if (!callgrind)
      show(
        'peak RSS, MB',
        (await Promise.all(paths.map((p) => p.stats()))).map((s) => s.maxRss / 1024 / 1024),
        'MB',
      );
  } finally {
    await setup.stop();
    killAll();
    if (args.includes('--keep')) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  if (profDir) {
    const { summariseProfile } = await import('./profile.ts');
    for (const f of readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile'))) {
      console.log(`\n${summariseProfile(join(profDir, f), 40)}`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err);
    killAll();
    process.exit(1);
  });
}

/** Issue 14's targets, as ratios against the bare forwarder (and, for PostgreSQL, against SQLite). */
export const COST_TARGETS = { streamCpu: 1.5, ttfbAddedMs: 0.1, plainCpu: 1.25, plainInstructions: 1.3, pgCpu: 1.3, rss: 1 };
/** Issue 12's: logging, metrics and the generation record add at most 5 % CPU per request. */
export const OPS_CPU_TARGET = 1.05;

export interface CostResults {
  plainCpuUs: { bare: number; sqlite: number; pg?: number };
  streamCpuUs: { bare: number; sqlite: number; pg?: number };
  /** Added time to the first streamed byte over calling the emulator directly, p50 (ms). */
  ttfbAddedMs: { bare: number; sqlite: number };
  instructions?: {
    plain: { bare: InstructionCount; sqlite: InstructionCount };
    stream: { bare: InstructionCount; sqlite: InstructionCount };
  };
  /** Peak RSS under the same load (bytes). */
  peakRss: { bare: number; sqlite: number; pg?: number };
  pgSkipped?: string;
  /** CPU µs per request and per stream with logging and metrics on, and off (issue 12). */
  ops?: { plain: { on: number; off: number }; stream: { on: number; off: number } };
}

/**
 * The cost phase of `npm run bench`: CPU per request and per stream, TTFB, peak RSS, on SQLite
 * and (when the test services answer) PostgreSQL + Redis; instructions with `callgrind` (a
 * second set of processes under valgrind, so the CPU numbers are not slowed by it).
 */
export async function runCostPhase(opts: {
  dir: string;
  quick: boolean;
  callgrind: boolean;
  withPg: boolean;
  log: (m: string) => void;
}): Promise<CostResults> {
  const n = opts.quick ? 300 : 1500;
  const rounds = opts.quick ? 1 : 3;
  const concurrency = 16;
  let stores: ('sqlite' | 'pg')[] = opts.withPg ? ['sqlite', 'pg'] : ['sqlite'];
  let pgSkipped: string | undefined = opts.withPg ? undefined : 'not asked for';
  let setup: CostSetup;
  try {
    setup = await startCost({ dir: opts.dir, stores, callgrind: false, opsPair: true });
  } catch (err) {
    if (!opts.withPg) throw err;
    pgSkipped = `PostgreSQL + Redis did not start (${(err as Error).message})`;
    stores = ['sqlite'];
    setup = await startCost({ dir: opts.dir, stores, callgrind: false, opsPair: true });
  }
  let r: CostResults;
  try {
    const ops = setup.ops!;
    const paths = [setup.bare, ...setup.freeway.map((f) => f.path), ops.on, ops.off];
    const opsAt = paths.length - 2;
    opts.log(`cost: warm-up, then CPU per request and per stream (${rounds} × ${n} each, ${concurrency} connections, paths rotating)`);
    for (const p of paths) {
      await fixedCount(p.target, n / 3, concurrency, false);
      await fixedCount(p.target, n / 3, concurrency, true);
    }
    const plain = await cpuPerRequest(paths, { n, rounds, concurrency, stream: false });
    const stream = await cpuPerRequest(paths, { n, rounds, concurrency, stream: true });
    opts.log('cost: time to first streamed byte, one stream at a time, interleaved');
    const direct = directTarget(setup);
    const ttfb = await ttfbP50([direct, setup.bare.target, setup.freeway[0].path.target], opts.quick ? 100 : 400);
    await direct.pool.destroy();
    const rss = await Promise.all(paths.slice(0, opsAt).map(async (p) => (await p.stats()).maxRss));
    const pgAt = stores.indexOf('pg') + 1;
    r = {
      plainCpuUs: { bare: plain[0], sqlite: plain[1], pg: pgAt > 0 ? plain[pgAt] : undefined },
      streamCpuUs: { bare: stream[0], sqlite: stream[1], pg: pgAt > 0 ? stream[pgAt] : undefined },
      ttfbAddedMs: { bare: ttfb[1] - ttfb[0], sqlite: ttfb[2] - ttfb[0] },
      peakRss: { bare: rss[0], sqlite: rss[1], pg: pgAt > 0 ? rss[pgAt] : undefined },
      pgSkipped,
      ops: {
        plain: { on: plain[opsAt], off: plain[opsAt + 1] },
        stream: { on: stream[opsAt], off: stream[opsAt + 1] },
      },
    };
  } finally {
    await setup.stop();
  }
  if (opts.callgrind) {
    opts.log('cost: instructions per request under valgrind --tool=callgrind (slow start-up)');
    const cg = await startCost({ dir: opts.dir, stores: ['sqlite'], callgrind: true });
    try {
      const paths = [cg.bare, cg.freeway[0].path];
      await warmForCallgrind(paths);
      const count = opts.quick ? 50 : CALLGRIND_LOAD.count;
      const plain = await instructionsPerRequest(paths, { n: count, stream: false });
      const stream = await instructionsPerRequest(paths, { n: count, stream: true });
      r.instructions = { plain: { bare: plain[0], sqlite: plain[1] }, stream: { bare: stream[0], sqlite: stream[1] } };
    } finally {
      await cg.stop();
    }
  }
  return r;
}

export interface CostRow {
  metric: string;
  bare: string;
  freeway: string;
  ratio: string;
  target: string;
  met?: boolean;
}

/** The cost phase's rows: each target with its measured ratio and whether it is met. */
export function costRows(r: CostResults): { rows: CostRow[]; missed: string[]; notes: string[] } {
  const rows: CostRow[] = [];
  const missed: string[] = [];
  const notes: string[] = [];
  const us = (x: number) => `${Math.round(x)} µs`;
  const ratio = (metric: string, bare: string, fw: string, value: number, limit: number, against = 'forwarder') => {
    const met = Number.isFinite(value) && value <= limit;
    rows.push({ metric, bare, freeway: fw, ratio: `${value.toFixed(2)}×`, target: `≤ ${limit}× the ${against}'s`, met });
    if (!met) missed.push(`${metric}: ${value.toFixed(2)}× (target ≤ ${limit}×)`);
  };
  const { plainCpuUs: plain, streamCpuUs: stream } = r;
  ratio('CPU per request, non-streaming', us(plain.bare), us(plain.sqlite), plain.sqlite / plain.bare, COST_TARGETS.plainCpu);
  ratio('CPU per stream (20 chunks)', us(stream.bare), us(stream.sqlite), stream.sqlite / stream.bare, COST_TARGETS.streamCpu);
  const t = r.ttfbAddedMs;
  const ttfbMet = t.sqlite <= t.bare + COST_TARGETS.ttfbAddedMs;
  rows.push({
    metric: 'added time to first streamed byte, p50',
    bare: `+${t.bare.toFixed(3)} ms`,
    freeway: `+${t.sqlite.toFixed(3)} ms`,
    ratio: `${t.sqlite - t.bare >= 0 ? '+' : ''}${(t.sqlite - t.bare).toFixed(3)} ms`,
    target: `≤ the forwarder's + ${COST_TARGETS.ttfbAddedMs} ms`,
    met: ttfbMet,
  });
  if (!ttfbMet) {
    missed.push(`added TTFB: ${(t.sqlite - t.bare).toFixed(3)} ms over the forwarder's (target ≤ ${COST_TARGETS.ttfbAddedMs} ms)`);
  }
  if (r.instructions) {
    const i = r.instructions;
    const m = (x: number) => `${(x / 1e6).toFixed(2)} M`;
    const served = (c: InstructionCount) => c.perRequest - c.jitPerRequest;
    const limit = COST_TARGETS.plainInstructions;
    const p = i.plain;
    ratio(
      'instructions per request (callgrind)',
      m(p.bare.perRequest),
      m(p.sqlite.perRequest),
      p.sqlite.perRequest / p.bare.perRequest,
      limit,
    );
    const info = (metric: string, bare: number, freeway: number) =>
      rows.push({ metric, bare: m(bare), freeway: m(freeway), ratio: `${(freeway / bare).toFixed(2)}×`, target: 'info' });
    info('  of which outside JIT compilation', served(p.bare), served(p.sqlite));
    info('instructions per stream (callgrind)', i.stream.bare.perRequest, i.stream.sqlite.perRequest);
    info('  of which outside JIT compilation', served(i.stream.bare), served(i.stream.sqlite));
  } else notes.push('instructions per request: not counted (add --callgrind)');
  if (plain.pg !== undefined && stream.pg !== undefined) {
    const against = 'SQLite path';
    const limit = COST_TARGETS.pgCpu;
    ratio('CPU per request, PostgreSQL + Redis', `SQLite ${us(plain.sqlite)}`, us(plain.pg), plain.pg / plain.sqlite, limit, against);
    ratio('CPU per stream, PostgreSQL + Redis', `SQLite ${us(stream.sqlite)}`, us(stream.pg), stream.pg / stream.sqlite, limit, against);
  } else notes.push(`PostgreSQL + Redis: not measured (${r.pgSkipped ?? 'unknown'})`);
  const mb = (x: number) => `${(x / 1024 / 1024).toFixed(1)} MB`;
  const peak = Math.max(r.peakRss.sqlite, r.peakRss.pg ?? 0);
  const rssShown = r.peakRss.pg === undefined ? mb(peak) : `SQLite ${mb(r.peakRss.sqlite)}, PG ${mb(r.peakRss.pg)}`;
  ratio('peak RSS, same load (the larger)', mb(r.peakRss.bare), rssShown, peak / r.peakRss.bare, COST_TARGETS.rss);
  if (r.ops) {
    const { plain: p, stream: s } = r.ops;
    const pct = (x: number) => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)} %`;
    const v = p.on / p.off;
    const met = Number.isFinite(v) && v <= OPS_CPU_TARGET;
    const limit = `≤ +${Math.round((OPS_CPU_TARGET - 1) * 100)} % (issue 12)`;
    rows.push({
      metric: 'operations on/off, CPU per request',
      bare: `off ${us(p.off)}`,
      freeway: `on ${us(p.on)}`,
      ratio: pct(v),
      target: limit,
      met,
    });
    if (!met) missed.push(`operations (logging + metrics) add ${pct(v)} CPU per request (target ${limit})`);
    rows.push({
      metric: 'operations on/off, CPU per stream',
      bare: `off ${us(s.off)}`,
      freeway: `on ${us(s.on)}`,
      ratio: pct(s.on / s.off),
      target: 'info',
    });
    notes.push(
      'operations on/off: two more Freeways on SQLite in the same rotation; on = FREEWAY_LOG=info, JSON lines through stderr to /dev/null, ' +
        'metrics on (the default); off = FREEWAY_LOG=silent and `metrics: {enabled: false}`; the generation record is written by both (it is the charge)',
    );
  }
  notes.push('cost rows: CPU from /proc (user + system) of each server process over the same fixed request count, 16 connections');
  return { rows, missed, notes };
}
