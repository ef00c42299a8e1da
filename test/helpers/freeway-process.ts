/**
 * A real Freeway process (`freeway serve`) for tests that need more than one, or need to kill one.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after } from 'node:test';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

/**
 * Every process started here and not yet exited. A test that fails before stopping its processes
 * must not leave them running: they would hold the test file's process, and the whole run, open.
 */
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

export interface FreewayProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: no cleanup of any kind, as in a crash. */
  kill(): Promise<void>;
}

export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/_API_KEY$|_BASE_URL$|^DATABASE_URL$|^FREEWAY_/.test(k)) env[k] = v;
  return { FREEWAY_LOG: 'warn', ...env, ...extra };
}

export async function startFreewayProcess(opts: { cwd: string; env: Record<string, string>; args?: string[] }): Promise<FreewayProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...(opts.args ?? [])], { cwd: opts.cwd, env: cleanEnv(opts.env) });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  let url: string | undefined;
  while (!(url = /listening on (http:\/\/\S+)/.exec(out)?.[1])) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`freeway did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Several processes started at once (they race for the database, as an operator's replicas do). If
 * one does not start, the others are stopped before the error is thrown: a process left running
 * would keep the test file's process, and so the whole run, alive.
 */
export async function startFreewayProcesses(
  all: Array<{ cwd: string; env: Record<string, string>; args?: string[] }>,
): Promise<FreewayProcess[]> {
  const started = await Promise.allSettled(all.map((o) => startFreewayProcess(o)));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (!failed) return started.map((s) => (s as PromiseFulfilledResult<FreewayProcess>).value);
  await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.kill() : undefined)));
  throw failed.reason;
}
