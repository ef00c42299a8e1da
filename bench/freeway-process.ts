/**
 * The Freeway under test, started as an operator starts it: `bin/freeway.js serve` (the README's
 * start command: built JavaScript, no TypeScript stripper in the process), configured by
 * environment variables, with an inference key created through the management API. Its CPU time
 * and memory are read from /proc, from outside, so measuring adds nothing to it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildStats } from './child-ipc.ts';
import { track } from './children.ts';
import { sleep } from './stats.ts';

const ROOT = join(import.meta.dirname, '..');

/**
 * The Node options of the README's start command (`npm start`: `node [options] bin/freeway.js
 * serve`), so the benchmark runs Freeway exactly as it is started.
 */
function startCommandOptions(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  const script = words.indexOf('bin/freeway.js');
  if (words[0] !== 'node' || script === -1) throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return words.slice(1, script);
}
/** The operator's admin key the benchmark's Freeway is started with. */
export const ADMIN_KEY = 'bench-admin-key';
const TICKS_PER_SECOND = 100;

/** A port free on loopback now (the kernel's pick), for a child to listen on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** CPU time (utime + stime) and memory of a running process, from /proc (Linux). */
export function procStats(pid: number): ChildStats {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  const us = (ticks: number) => (ticks * 1_000_000) / TICKS_PER_SECOND;
  return {
    cpuUs: us(utime + stime),
    sysUs: us(stime),
    rss: kb('VmRSS'),
    maxRss: kb('VmHWM'),
    heapTotal: NaN,
    heapUsed: NaN,
    external: NaN,
    arrayBuffers: NaN,
    requests: NaN,
  };
}

/** How long answers waited for their charge to commit, over one recorded phase (ms). */
export interface SettleWaits {
  whole: number[];
  streamed: number[];
}

export class FreewayProcess {
  readonly proc: ChildProcess;
  readonly info: { url: string; key: string };
  private readonly settleFile: string;
  private settleSeq = 0;

  private constructor(proc: ChildProcess, info: { url: string; key: string }, settleFile: string) {
    this.proc = proc;
    this.info = info;
    this.settleFile = settleFile;
  }

  /** Starts recording settle waits (see settle-probe.mjs). */
  startSettleWaits(): void {
    this.proc.kill('SIGUSR2');
  }

  /** Stops recording and returns what was recorded; undefined if the probe did not answer. */
  async stopSettleWaits(): Promise<SettleWaits | undefined> {
    this.proc.kill('SIGUSR2');
    const want = ++this.settleSeq;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      try {
        const r = JSON.parse(readFileSync(this.settleFile, 'utf8')) as SettleWaits & { seq: number };
        if (r.seq === want) return r;
      } catch {
        // Not written yet (or half written): look again.
      }
      await sleep(20);
    }
    return undefined;
  }

  /**
   * `env` adds to (or overrides) the environment (e.g. DATABASE_URL and REDIS_URL for PostgreSQL +
   * Redis); `wrap` is a command the process runs under (e.g. valgrind's), before `node`.
   */
  static async start(opts: {
    emulatorUrl: string;
    emulatorKey: string;
    dir: string;
    nodeArgs: string[];
    env?: Record<string, string>;
    wrap?: string[];
    startupMs?: number;
    /** Another checkout to run Freeway from (an A/B comparison against a baseline build). */
    root?: string;
    /** Where its stderr goes (its log lines), instead of this process's stderr: a file, or /dev/null. */
    stderrFile?: string;
    /** A freeway.yaml written in `dir` (Freeway reads ./freeway.yaml from its working directory). */
    configYaml?: string;
  }): Promise<FreewayProcess> {
    if (opts.configYaml !== undefined) writeFileSync(join(opts.dir, 'freeway.yaml'), opts.configYaml);
    const stderrFd = opts.stderrFile ? openSync(opts.stderrFile, 'a') : undefined;
    const port = await freePort();
    const settleFile = join(opts.dir, 'settle-waits.json');
    const probe = pathToFileURL(join(ROOT, 'bench', 'settle-probe.mjs')).href;
    const bin = join(opts.root ?? ROOT, 'bin', 'freeway.js');
    const args = [...startCommandOptions(), ...opts.nodeArgs, '--import', probe, bin, 'serve', '--port', String(port)];
    const command = opts.wrap && opts.wrap.length > 0 ? opts.wrap[0] : process.execPath;
    const proc = spawn(command, opts.wrap && opts.wrap.length > 0 ? [...opts.wrap.slice(1), process.execPath, ...args] : args, {
      cwd: opts.dir,
      env: {
        ...process.env,
        OPENAI_API_KEY: opts.emulatorKey,
        OPENAI_BASE_URL: `${opts.emulatorUrl}/v1`,
        DATABASE_URL: join(opts.dir, 'freeway.db'),
        FREEWAY_ADMIN_KEY: ADMIN_KEY,
        FREEWAY_LOG: 'silent',
        FREEWAY_BENCH_SETTLE_FILE: settleFile,
        ...opts.env,
      },
      stdio: ['ignore', 'ignore', stderrFd ?? 'inherit'],
    });
    if (stderrFd !== undefined) closeSync(stderrFd);
    track(proc);
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (opts.startupMs ?? 30_000);
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`freeway exited during start-up (code ${proc.exitCode})`);
      // Ready once the catalog has the emulator's models (discovery runs after listening).
      const models = await fetch(`${url}/api/v1/models`).then(
        (r) => (r.ok ? (r.json() as Promise<{ data: unknown[] }>) : undefined),
        () => undefined,
      );
      if (models && models.data.length > 0) break;
      if (Date.now() > deadline) throw new Error(`freeway did not start within ${(opts.startupMs ?? 30_000) / 1000} s`);
      await sleep(50);
    }
    const res = await fetch(`${url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`freeway: creating a key failed with ${res.status}: ${await res.text()}`);
    const { key } = (await res.json()) as { key: string };
    return new FreewayProcess(proc, { url, key }, settleFile);
  }

  async stats(): Promise<ChildStats> {
    return procStats(this.proc.pid!);
  }

  /** SIGTERM (Freeway shuts down cleanly, writing a CPU profile if asked), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    this.proc.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  }
}
