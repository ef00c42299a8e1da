/**
 * A command that starts a Freeway server the way a user would (`npm start`, an installed `freeway`,
 * scripts/install-and-start.sh), run in a process group of its own so that stopping it stops npm,
 * the shell and node together. For the install and README tests.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';

export interface StartedCommand {
  url: string;
  /** The first key it printed (only waited for with `expectKey`). */
  key: string | undefined;
  child: ChildProcess;
  output(): string;
  /** SIGTERM to the whole group, then wait for the exit. */
  stop(): Promise<void>;
}

const WORKTREE_BIN = join(import.meta.dirname, '..', '..', 'node_modules', '.bin');

/**
 * An environment as on a user's machine that has Node 24 on PATH: this Node's directory first, the
 * repository's node_modules/.bin left out, and nothing from the test runner or npm (provider keys,
 * base URLs, databases, npm_* settings of an enclosing `npm test`).
 */
export function userEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /_API_KEY$|_BASE_URL$|^DATABASE_URL$|^REDIS_URL$|^PORT$|^FREEWAY_|^npm_|^NODE_OPTIONS$/i.test(k)) continue;
    env[k] = v;
  }
  const path = (env.PATH ?? '').split(':').filter((p) => p && p !== WORKTREE_BIN);
  env.PATH = [dirname(process.execPath), ...path].join(':');
  return { FREEWAY_LOG: 'warn', ...env, ...extra };
}

export async function startCommand(
  command: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; expectKey?: boolean; timeoutMs?: number },
): Promise<StartedCommand> {
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const group = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  // The first key, when one is expected, is printed after the listening line.
  const ready = () => /listening on http:\/\/\S+/.test(out) && (!opts.expectKey || /sk-fw-v1-[0-9a-f]{64}/.test(out));
  while (!ready()) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      group('SIGKILL');
      throw new Error(`${command} ${args.join(' ')} did not start (exit ${child.exitCode}):\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)![1];
  return {
    url,
    key: /(sk-fw-v1-[0-9a-f]{64})/.exec(out)?.[1],
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) group('SIGTERM');
      await exited;
    },
  };
}
