/**
 * The one Redis connection factory (REDIS_URL), shared by health tracking, rate limits and
 * endpoint capacity, and the one outage guard every one of them asks before using Redis.
 *
 * A Redis outage must cost a request almost nothing: commands are never queued while the
 * connection is down (`enableOfflineQueue: false`), never retried on reconnect, and time out after
 * `commandTimeoutMs`. The first failure opens the guard: from then on nobody asks Redis (callers
 * fall back at once: rate limits to this process's memory, or a 503 in fail-closed mode; health to
 * its in-memory twin) while a background PING every `probeMs` finds out when it is back. One ERROR
 * line when the outage starts, one INFO line when it ends; /health shows the state.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { Outage } from './outage.ts';
import type { DependencyState } from './outage.ts';

export type RedisClient = Redis;

/** What Freeway does with its shared limits while Redis is down. */
export type RedisOutagePolicy = 'enforce-locally' | 'fail-closed';

export interface RedisConnectOptions {
  /** Default enforce-locally: limits hold per process during the outage. fail-closed: inference answers 503. */
  onOutage?: RedisOutagePolicy;
  /** A command not answered within this is a failure (a silent outage). Default 500 ms. */
  commandTimeoutMs?: number;
  /** TCP connect (and the first connection at start-up) within this. Default 2 s. */
  connectTimeoutMs?: number;
  /** How often a down Redis is probed with a PING. Default 1 s. */
  probeMs?: number;
  /** Where the outage's ERROR and recovery's INFO lines go. Default: nowhere. */
  log?: Logger;
}

export const REDIS_DEFAULTS = { commandTimeoutMs: 500, connectTimeoutMs: 2_000, probeMs: 1_000 } as const;

/** Thrown instead of calling Redis while the guard is open. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/** Replies meaning this Redis cannot serve now (rather than a mistake in what was asked). */
const UNUSABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|OOM|BUSY|CLUSTERDOWN|TRYAGAIN|NOAUTH|WRONGPASS)\b/;

function isOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return true;
  if (err.name === 'ReplyError') return UNUSABLE_REPLY.test(err.message);
  return true;
}

export class RedisGuard {
  readonly client: RedisClient;
  readonly onOutage: RedisOutagePolicy;
  private readonly outage: Outage;
  private readonly probeMs: number;
  private readonly connectTimeoutMs: number;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private stuckProbes = 0;
  private everReady = false;
  private firstConnection: Promise<void> | undefined;
  private closed = false;
  /** Commands sent to Redis through run() (tests count them to show a dead Redis is not asked). */
  attempts = 0;

  constructor(client: RedisClient, opts: RedisConnectOptions = {}) {
    this.client = client;
    this.onOutage = opts.onOutage ?? 'enforce-locally';
    this.probeMs = opts.probeMs ?? REDIS_DEFAULTS.probeMs;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? REDIS_DEFAULTS.connectTimeoutMs;
    const consequence =
      this.onOutage === 'fail-closed'
        ? 'inference requests are refused with 503 (redis.onOutage: fail-closed)'
        : 'rate limits and endpoint capacity are enforced per process, health is per process';
    this.outage = new Outage(
      {
        down: (reason) => `Redis is unreachable (${reason}): ${consequence} until it is back; probing every ${this.probeMs} ms`,
        up: (ms) => `Redis is reachable again after ${(ms / 1000).toFixed(1)} s: limits and health are shared across processes again`,
      },
      opts.log,
    );
    // Without an error listener ioredis prints every reconnection failure; here each one is an outage signal.
    client.on('error', (err: unknown) => this.trip(err));
    // Emitted only for a connection that was lost (not for quit/disconnect): it will reconnect.
    client.on('reconnecting', () => this.trip(new Error('connection lost')));
    client.on('ready', () => {
      this.everReady = true;
      if (this.outage.isDown) void this.probe();
    });
    client.on('end', () => this.stopProbing());
  }

  /** True while Redis is considered down: nobody asks it until a probe succeeds. */
  get down(): boolean {
    return this.closed || this.outage.isDown;
  }

  state(): DependencyState & { onOutage: RedisOutagePolicy } {
    return { ...this.outage.state(), onOutage: this.onOutage };
  }

  /**
   * Resolves once the first connection is ready, or has failed (the guard is then open) within
   * the connect timeout. Start-up awaits it so that the first requests find a settled state.
   */
  connected(): Promise<void> {
    if (this.everReady || this.client.status === 'ready') {
      this.everReady = true;
      return Promise.resolve();
    }
    this.firstConnection ??= new Promise<void>((resolve) => {
      const done = (err?: unknown) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        this.client.off('error', onError);
        if (err !== undefined) this.trip(err);
        resolve();
      };
      const onReady = () => done();
      const onError = (err: unknown) => done(err);
      const timer = setTimeout(() => done(new Error(`no connection within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      timer.unref();
      this.client.once('ready', onReady);
      this.client.once('error', onError);
    });
    return this.firstConnection;
  }

  /**
   * Runs `fn` against Redis unless it is down (then throws RedisUnavailableError at once). A
   * failure that means Redis cannot serve opens the guard; the error is rethrown either way.
   */
  async run<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
    if (!this.down && !this.everReady) await this.connected();
    if (this.down) throw new RedisUnavailableError(`Redis is unavailable: ${this.outage.state().reason ?? 'closed'}`);
    this.attempts++;
    try {
      return await fn(this.client);
    } catch (err) {
      if (isOutage(err)) this.trip(err);
      throw err;
    }
  }

  /** Stops probing; the client's owner quits it. */
  close(): void {
    this.closed = true;
    this.stopProbing();
  }

  private trip(err: unknown): void {
    if (this.closed) return;
    // ioredis's own words for "not connected" name its option, not the problem.
    if (err instanceof Error && /enableOfflineQueue/.test(err.message)) err = new Error(`not connected (connection ${this.client.status})`);
    if (!this.outage.markDown(err)) return;
    // A command that timed out leaves its reply owed on this connection: start a fresh one.
    if (this.client.status === 'ready') this.client.disconnect(true);
    this.stuckProbes = 0;
    this.probeTimer ??= setInterval(() => void this.probe(), this.probeMs);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (this.probing || this.closed || !this.outage.isDown) return;
    this.probing = true;
    try {
      const status = this.client.status;
      if (status === 'end') {
        this.client.connect().catch(() => {});
        return;
      }
      if (status !== 'ready') {
        // A connection stuck in its handshake (a server that accepts and never answers) is retried.
        if ((status === 'connect' || status === 'connecting') && ++this.stuckProbes * this.probeMs >= this.connectTimeoutMs) {
          this.stuckProbes = 0;
          this.client.disconnect(true);
        }
        return;
      }
      this.stuckProbes = 0;
      const reply = await this.client.ping();
      if (reply !== 'PONG') throw new Error(`unexpected PING reply ${String(reply)}`);
      if (!this.closed && this.outage.markUp()) this.stopProbing();
    } catch (err) {
      this.outage.markDown(err);
    } finally {
      this.probing = false;
    }
  }

  private stopProbing(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }
}

const guards = new WeakMap<RedisClient, RedisGuard>();

/** The outage guard of a client: the one connectRedis made, or a default one for a client made elsewhere. */
export function guardOf(client: RedisClient): RedisGuard {
  let g = guards.get(client);
  if (!g) {
    g = new RedisGuard(client);
    guards.set(client, g);
  }
  return g;
}

/**
 * ioredis is loaded by the first connection, not at import: a process without REDIS_URL (the
 * embedded default) never needs it, and loading it costs a few MB of memory.
 */
function loadRedis(): typeof Redis {
  return (createRequire(import.meta.url)('ioredis') as typeof import('ioredis')).Redis;
}

export function connectRedis(url: string, opts: RedisConnectOptions = {}): RedisClient {
  const RedisClass = loadRedis();
  const client = new RedisClass(url, {
    lazyConnect: false,
    // Fail fast while disconnected; the guard decides what a request does instead.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A rate-limit script sent again after its caller fell back would count twice.
    autoResendUnfulfilledCommands: false,
    commandTimeout: opts.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs,
    connectTimeout: opts.connectTimeoutMs ?? REDIS_DEFAULTS.connectTimeoutMs,
    // Reconnects for ever, at most a second apart, so recovery needs no restart.
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    // Keys of every Freeway process sharing this Redis start with the same prefix.
    keyPrefix: 'freeway:',
  });
  guards.set(client, new RedisGuard(client, opts));
  return client;
}

/** Stops the guard and closes the connection without waiting on a dead server. */
export async function closeRedis(client: RedisClient): Promise<void> {
  guardOf(client).close();
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // Fall through: drop the connection.
    }
  }
  client.disconnect();
}
