/**
 * Who owns a credit hold. Every gateway process holds a lease in the store, renewed every few
 * seconds, and every hold it places carries the lease's id. Each process sweeps as often as it
 * renews: holds whose owner is known gone (on SQLite its lock file is free; elsewhere it ran on
 * this host under a PID that no longer exists: a crash, seen at once), whose owner's lease has
 * lapsed, or whose owner has no lease at all, are settled — what their streams had delivered by
 * the last checkpoint is charged, the rest released. Holds from before leases existed (no owner)
 * still go when their TTL ends.
 */
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from '../log.ts';
import { isOutage } from '../spec/errors.ts';
import type { ProcessLease } from '../store/types.ts';
import type { Store } from '../store/store.ts';

export interface LeaseSettings {
  /** How long a lease lasts unless renewed: a dead process's holds are settled at most this long (plus one sweep) after it died. */
  leaseMs: number;
  /** How often the lease is renewed and dead owners' holds are swept. */
  sweepMs: number;
}

/**
 * This machine as seen by a process: the host name and the PID namespace. Two processes with the
 * same value can check each other's PID; containers (own PID namespace) cannot, and wait for the lease.
 */
export function thisHost(): string {
  try {
    return `${hostname()} ${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return hostname();
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Leases held by gateways in this very process (tests run several): alive though their PID is ours. */
const ownLeases = new Set<string>();

export interface SweepResult {
  /** Holds of dead owners settled (charged or released). */
  released: number;
  /** Of those, how many were charged for a partial stream. */
  charged: number;
  /** Holds without an owner released at the end of their TTL. */
  expired: number;
}

export class ProcessLeases {
  readonly owner = randomUUID();
  private readonly host = thisHost();
  private readonly startedAt = new Date().toISOString();
  private readonly store: Store;
  private readonly settings: LeaseSettings;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private lastRenewedAt = 0;
  /**
   * After this process itself could not renew for longer than a lease (the store was away), other
   * processes could not either: their lapsed leases are not taken for death until they have had a
   * lease's time to renew.
   */
  private judgeLapsedFrom = 0;

  constructor(store: Store, settings: LeaseSettings, log: Logger) {
    this.store = store;
    this.settings = settings;
    this.log = log;
  }

  /** Takes the lease and settles what dead processes left (before serving), then keeps both going. */
  async start(): Promise<SweepResult> {
    // Before serving: the first sweep runs here, not in the background.
    ownLeases.add(this.owner);
    this.store.holdOwner?.(this.owner);
    await this.renew();
    let first: SweepResult = { released: 0, charged: 0, expired: 0 };
    try {
      first = await this.sweep();
    } catch (err) {
      // The next sweep tries again; a hold that cannot be settled must not keep the gateway down.
      this.log.error(`hold sweep failed: ${String(err)}`);
    }
    this.timer = setInterval(this.tick, this.settings.sweepMs);
    this.timer.unref();
    return first;
  }

  /** Stops renewing and gives the lease up (after this process's holds are settled). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
    ownLeases.delete(this.owner);
    await this.store.endLease(this.owner);
    this.store.dropOwner?.(this.owner);
  }

  private readonly tick = (): void => {
    if (this.running) return;
    this.running = this.renew()
      .then(() => this.sweep())
      .catch((err: unknown) => {
        // A database outage is logged once, where it is noticed; the next tick catches up.
        if (!isOutage(err)) this.log.error(`process lease renewal or hold sweep failed: ${String(err)}`);
      })
      .finally(() => (this.running = undefined));
  };

  private async renew(): Promise<void> {
    const now = Date.now();
    const expiresAt = new Date(now + this.settings.leaseMs).toISOString();
    await this.store.renewLease({ owner: this.owner, host: this.host, pid: process.pid, expiresAt, startedAt: this.startedAt });
    if (this.lastRenewedAt !== 0 && now - this.lastRenewedAt > this.settings.leaseMs) this.judgeLapsedFrom = now + this.settings.leaseMs;
    this.lastRenewedAt = now;
  }

  /**
   * Whether a lease's process is gone. Where the store can ask the operating system (SQLite's lock
   * files), that answer is final: gone at once, or alive however late its lease. Otherwise: it ran
   * on this host under a PID that is gone (or is now ours, though no gateway of this process holds
   * the lease: an earlier process), or its lease lapsed.
   */
  private dead(l: ProcessLease, now: number): 'lapsed' | 'gone' | undefined {
    if (ownLeases.has(l.owner)) return undefined;
    const alive = this.store.ownerAlive?.(l.owner);
    if (alive !== undefined) return alive ? undefined : 'gone';
    if (l.host === this.host && (l.pid === process.pid || !pidExists(l.pid))) return 'gone';
    return Date.parse(l.expiresAt) < now && now >= this.judgeLapsedFrom ? 'lapsed' : undefined;
  }

  /** Settles the holds of every dead owner, then the expired holds without one. */
  async sweep(now = new Date()): Promise<SweepResult> {
    const dead = (await this.store.listLeases()).map((l) => ({ l, why: this.dead(l, now.getTime()) })).filter((d) => d.why !== undefined);
    const owners = [...dead.map((d) => d.l.owner), ...(await this.store.orphanOwners())];
    const { released, charged } = owners.length > 0 ? await this.store.reclaimHolds(owners, now) : { released: 0, charged: 0 };
    // A lapsed lease is removed only if it is still lapsed: its process may have come back and renewed it.
    for (const d of dead) {
      await this.store.endLease(d.l.owner, d.why === 'lapsed' ? now : undefined);
      if (d.why === 'gone') this.store.dropOwner?.(d.l.owner);
    }
    const expired = await this.store.releaseExpired(now);
    if (released > 0)
      this.log.info(
        `settled ${released} credit holds of stopped Freeway processes (${charged} charged for what their streams had delivered)`,
      );
    if (expired > 0) this.log.info(`released ${expired} expired credit holds`);
    return { released, charged, expired };
  }
}
