/**
 * `freeway serve --workers N`: the primary process. It serves no request itself; it prepares the
 * database once (schema, default account, the first key), forks N workers that each run a whole
 * gateway on the same port (SO_REUSEPORT: the kernel spreads connections, the primary never
 * touches traffic), decides their rate limits when there is no Redis (rate-server.ts), restarts a
 * worker that dies, and on SIGTERM drains them all before it exits.
 *
 * What workers share and how (see the README's "Every core"): the SQLite file (WAL; every money
 * operation takes its write lock, so credit holds are exact across workers), rate limits and
 * endpoint capacity (here, or Redis), the leases that settle a dead worker's holds (each worker is
 * a process with its own lease and lock file). Health and sticky routing stay per worker.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import type { Settings } from '../config/load.ts';
import type { Logger } from '../log.ts';
import { prepareStore } from '../start.ts';
import { ConfigError } from '../config/load.ts';
import { isPostgresUrl, openStore } from '../store/open.ts';
import { checkpointOnThisThread } from '../store/sqlite/checkpointer.ts';
import type { Checkpointer } from '../store/sqlite/checkpointer.ts';
import { sqlitePathFromUrl } from '../store/sqlite/sqlite-store.ts';
import { isFreewayMessage } from './messages.ts';
import type { PrimaryMessage, WorkerMessage } from './messages.ts';
import { RateServer } from './rate-server.ts';

/** The environment variable that hands workers the port the first one bound (port 0 picks one). */
export const WORKER_PORT_ENV = 'FREEWAY_WORKER_PORT';

/** A worker that dies sooner than this after it started counts as a failed start: restarts back off. */
const STABLE_MS = 5_000;
const MAX_BACKOFF_MS = 30_000;
/** Longest a worker may take to drain at shutdown before it is killed. */
const DRAIN_MS = 30_000;

export interface Started {
  url: string;
  port: number;
  /** Models in the first worker's catalog when it started listening. */
  models: number;
  bootstrapKey?: string;
  pids: number[];
}

export interface PrimaryEvents {
  /** A worker started serving (also a replacement). */
  onWorker?(info: { id: number; pid: number; replacing?: number }): void;
  /** A worker exited when nobody asked it to; it is restarted after `restartInMs`. */
  onExit?(info: { id: number; pid: number; code: number | null; signal: string | null; restartInMs: number }): void;
}

export class Primary {
  private readonly settings: Settings;
  private readonly count: number;
  private readonly log: Logger;
  private readonly events: PrimaryEvents;
  private readonly rates: RateServer;
  private port: number | undefined;
  private stopping = false;
  private failures = 0;
  private readonly exits = new Set<Promise<void>>();
  /** Workers that have started serving (and so listen for 'stop'). */
  private readonly serving = new Set<number>();
  /** The shared SQLite file's WAL checkpoints, taken here for every worker (none on PostgreSQL). */
  private checkpoints: Checkpointer | undefined;

  constructor(settings: Settings, count: number, log: Logger, events: PrimaryEvents = {}) {
    this.settings = settings;
    this.count = count;
    this.log = log;
    this.events = events;
    this.rates = new RateServer({ workers: count, send: (id, m) => this.sendTo(id, m) });
  }

  async start(): Promise<Started> {
    const sqlitePath = isPostgresUrl(this.settings.databaseUrl) ? undefined : sqlitePathFromUrl(this.settings.databaseUrl);
    if (sqlitePath === ':memory:') {
      // Each worker would have a database of its own: no shared credit, no keys but its own.
      throw new ConfigError('--workers needs a database the workers can share: a SQLite file or PostgreSQL, not :memory:');
    }
    // Once, before any worker: N workers racing on an empty database would each create a first key.
    const store = await openStore(this.settings.databaseUrl, { ...this.settings.database, log: this.log, sqliteCheckpoints: 'elsewhere' });
    let bootstrapKey: string | undefined;
    try {
      bootstrapKey = await prepareStore(store, this.settings);
    } finally {
      await store.close();
    }
    // This process serves no request, so a checkpoint's milliseconds on its event loop delay nobody;
    // each worker would otherwise run a checkpointer thread of its own (~18 MB each, all contending).
    if (sqlitePath !== undefined) this.checkpoints = checkpointOnThisThread(sqlitePath);
    // The first worker binds the configured port (or picks one for port 0); the rest bind the same.
    const first = await this.fork();
    this.port = first.port;
    const rest = await Promise.all(Array.from({ length: this.count - 1 }, () => this.fork()));
    return { url: first.url, port: first.port, models: first.models, bootstrapKey, pids: [first, ...rest].map((w) => w.pid) };
  }

  /** Asks every worker to drain (close connections, commit charges, settle holds), then waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) {
      if (!w) continue;
      const stop: PrimaryMessage = { fw: 'stop' };
      try {
        // One still starting has not served anything and may not listen for 'stop' yet.
        if (this.serving.has(w.id)) w.send(stop);
        else w.process.kill('SIGTERM');
      } catch {
        // Its channel is already gone: it is exiting.
      }
      const timer = setTimeout(() => w.process.kill('SIGKILL'), DRAIN_MS);
      timer.unref();
      w.once('exit', () => clearTimeout(timer));
    }
    await Promise.all([...this.exits]);
    // After the workers' last commits: the file is left checkpointed.
    await this.checkpoints?.stop();
    await this.rates.store.close();
  }

  private fork(replacing?: number): Promise<{ url: string; port: number; models: number; pid: number }> {
    const env: Record<string, string> = {};
    if (this.port !== undefined) env[WORKER_PORT_ENV] = String(this.port);
    const w = cluster.fork(env);
    const startedAt = Date.now();
    let listening = false;
    const exited: Promise<void> = new Promise<void>((resolve) => w.once('exit', () => resolve())).then(() => {
      this.exits.delete(exited);
    });
    this.exits.add(exited);
    w.on('message', (m: unknown) => this.onMessage(w, m));
    return new Promise((resolve, reject) => {
      w.on('message', (m: unknown) => {
        if (!isFreewayMessage(m)) return;
        const msg = m as WorkerMessage;
        if (msg.fw === 'listening') {
          listening = true;
          this.serving.add(w.id);
          this.events.onWorker?.({ id: w.id, pid: w.process.pid!, replacing });
          resolve({ url: msg.url, port: msg.port, models: msg.models, pid: w.process.pid! });
        } else if (msg.fw === 'failed') {
          const err = Object.assign(new Error(msg.message), { code: msg.code });
          // A worker that cannot start at all (bad port, bad config) stops the whole start.
          if (replacing === undefined) reject(err);
          else this.log.error(`worker ${w.id} could not start: ${msg.message}`);
        }
      });
      w.once('exit', (code, signal) => {
        this.serving.delete(w.id);
        void this.rates.forget(w.id);
        if (!listening && replacing === undefined) {
          reject(new Error(`worker ${w.id} exited during start-up (${signal ?? `code ${code}`})`));
        }
        if (this.stopping || (!listening && replacing === undefined)) return;
        this.failures = Date.now() - startedAt < STABLE_MS ? this.failures + 1 : 0;
        const restartInMs = this.failures === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.failures);
        this.events.onExit?.({ id: w.id, pid: w.process.pid!, code, signal, restartInMs });
        setTimeout(() => {
          if (this.stopping) return;
          this.fork(w.id).catch((err: unknown) => this.log.error(`could not restart worker ${w.id}: ${String(err)}`));
        }, restartInMs);
      });
    });
  }

  private onMessage(w: Worker, m: unknown): void {
    if (!isFreewayMessage(m)) return;
    const msg = m as WorkerMessage;
    if (msg.fw === 'returned') this.rates.returned(w.id, msg.id, msg.block);
    if (msg.fw !== 'rate') return;
    this.rates.handle(w.id, msg.calls, (replies) => {
      const reply: PrimaryMessage = { fw: 'rate', replies };
      if (w.isConnected()) w.send(reply);
    });
  }

  private sendTo(id: number, m: PrimaryMessage): boolean {
    const w = cluster.workers?.[id];
    if (!w?.isConnected()) return false;
    try {
      w.send(m);
      return true;
    } catch {
      return false;
    }
  }
}
