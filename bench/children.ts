/**
 * The parent side: forks a benchmark child, waits for it to be ready, asks it things over IPC,
 * and stops it — politely first, SIGKILL when it does not go. Every child started is tracked so
 * that `killAll` can end them on any exit path.
 */
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildStats } from './child-ipc.ts';

const live = new Set<ChildProcess>();

/** Counts a child process in for killAll. */
export function track(proc: ChildProcess): void {
  live.add(proc);
  proc.on('exit', () => live.delete(proc));
  proc.on('error', () => {});
}

export class Child<Info = Record<string, unknown>> {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly info: Info;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(name: string, proc: ChildProcess, info: Info) {
    this.name = name;
    this.proc = proc;
    this.info = info;
    proc.on('message', (msg: { id?: number; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.error !== undefined) w.reject(new Error(`${name}: ${msg.error}`));
      else w.resolve(msg.result);
    });
    // IPC errors (a dead child) surface through call(); never as an unhandled 'error' event.
    proc.on('error', () => {});
    proc.on('exit', () => {
      for (const w of [...this.waiting.values()]) w.reject(new Error(`${name} exited`));
      this.waiting.clear();
    });
  }

  /** `wrap`: a command the child runs under (e.g. valgrind's), before `node`; the IPC channel passes through it. */
  static start<I>(
    name: string,
    script: string,
    opts: { args?: string[]; execArgv?: string[]; timeoutMs?: number; wrap?: string[] } = {},
  ): Promise<Child<I>> {
    const path = fileURLToPath(new URL(script, import.meta.url));
    const env = { ...process.env, FREEWAY_LOG: 'silent' };
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    const proc =
      opts.wrap && opts.wrap.length > 0
        ? spawn(opts.wrap[0], [...opts.wrap.slice(1), process.execPath, ...(opts.execArgv ?? []), path, ...(opts.args ?? [])], {
            env,
            stdio,
          })
        : fork(path, opts.args ?? [], { execArgv: opts.execArgv ?? [], env, stdio });
    track(proc);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${name} did not start within ${opts.timeoutMs ?? 15_000} ms`));
      }, opts.timeoutMs ?? 15_000);
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited during start-up (code ${code}, signal ${signal})`));
      };
      proc.once('exit', onExit);
      proc.on('message', function onReady(msg: { ready?: I }) {
        if (!msg.ready) return;
        clearTimeout(timer);
        proc.off('exit', onExit);
        proc.off('message', onReady);
        resolve(new Child<I>(name, proc, msg.ready));
      });
    });
  }

  call<T>(type: string, timeoutMs = 10_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no answer to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(e);
      };
      if (!this.proc.connected) return fail(new Error(`${this.name} is not running`));
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: fail,
      });
      this.proc.send({ id, type }, (err) => {
        if (err) fail(new Error(`${this.name}: ${err.message}`));
      });
    });
  }

  stats(): Promise<ChildStats> {
    return this.call<ChildStats>('stats');
  }

  /** Asks the child to close and exit; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    this.call('close', timeoutMs).catch(() => this.proc.kill('SIGKILL'));
    await exited;
    clearTimeout(timer);
  }
}

/** Last resort, synchronous: SIGKILL every child still running (safe in an 'exit' handler). */
export function killAll(): void {
  for (const proc of live) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  live.clear();
}
