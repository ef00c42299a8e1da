/**
 * Process leases and crashed streams on SQLite: a lease says a gateway process is alive, a
 * checkpoint what its open streams had delivered, and a reclaim settles a dead owner's holds from
 * those checkpoints. Lease and checkpoint writes go through the group commit, since nobody waits on them.
 */
import type { StatementSync } from 'node:sqlite';
import { deliveredRecord, leaseFromRow, ORPHAN_OWNERS_SQL, RECLAIM_NOTE } from '../rows.ts';
import { chargeParams, checkpointParams, checkpointSql } from '../row-writes.ts';
import { CHARGE_SQL } from './pending-charges.ts';
import type { Row } from '../rows.ts';
import type { GenerationRecord, HoldCheckpoint, ProcessLease } from '../types.ts';
import type { WriteOptions } from './group-commit.ts';

/** What leases need of the store; a reclaim is built from the store's own money steps, so it stays one ledger. */
export interface LeaseStore {
  /** The store's statement cache, which also lands pending group-commit writes before a read. */
  q(sql: string): StatementSync;
  grouped<T>(op: () => T, opts?: WriteOptions): Promise<T>;
  tx<T>(fn: () => T): T;
  /** Deletes a hold and gives its amount back; the deleted row, or undefined when there was none. */
  drop(id: string): Row | undefined;
  charge(accountId: string, keyHash: string, nanos: number, now: Date): void;
  addGeneration(g: GenerationRecord): void;
}

export class Leases {
  private readonly store: LeaseStore;

  constructor(store: LeaseStore) {
    this.store = store;
  }

  async renewLease(l: ProcessLease): Promise<void> {
    await this.store.grouped(
      () => {
        this.store
          .q(
            `INSERT INTO process_leases (owner, host, pid, expires_at, started_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at`,
          )
          .run(l.owner, l.host, l.pid, l.expiresAt, l.startedAt);
      },
      { urgent: false, defersOnly: true },
    );
  }

  async endLease(owner: string, expiredBefore?: Date): Promise<void> {
    if (expiredBefore)
      this.store.q('DELETE FROM process_leases WHERE owner = ? AND expires_at < ?').run(owner, expiredBefore.toISOString());
    else this.store.q('DELETE FROM process_leases WHERE owner = ?').run(owner);
  }

  async listLeases(): Promise<ProcessLease[]> {
    return (this.store.q('SELECT * FROM process_leases').all() as Row[]).map(leaseFromRow);
  }

  async orphanOwners(): Promise<string[]> {
    return (this.store.q(ORPHAN_OWNERS_SQL).all() as Row[]).map((r) => String(r.owner));
  }

  async checkpointHolds(cs: readonly HoldCheckpoint[]): Promise<void> {
    if (cs.length === 0) return;
    await this.store.grouped(
      () => {
        const st = this.store.q(checkpointSql(() => '?'));
        for (const c of cs) st.run(...checkpointParams(c));
      },
      { urgent: false, defersOnly: true },
    );
  }

  async reclaimHolds(owners: readonly string[], now: Date): Promise<{ released: number; charged: number }> {
    let released = 0;
    let charged = 0;
    for (const owner of owners) {
      const ids = (this.store.q('SELECT id FROM reservations WHERE owner = ?').all(owner) as Row[]).map((r) => String(r.id));
      for (const id of ids) {
        const outcome = this.store.tx(() => this.reclaim(id, now));
        if (outcome === 'charged') charged++;
        if (outcome !== 'none') released++;
      }
    }
    return { released, charged };
  }

  /** Drops a dead owner's hold, charging what its stream had delivered by its last checkpoint. */
  private reclaim(id: string, now: Date): 'none' | 'released' | 'charged' {
    const row = this.store.drop(id);
    if (!row) return 'none';
    const record = deliveredRecord(row);
    const upstream = Number(row.delivered_upstream_nanos);
    const fee = Number(row.delivered_fee_nanos);
    if (!record) return 'released';
    const accountId = String(row.account_id);
    const keyHash = String(row.key_hash);
    const note = `${record.model}: ${RECLAIM_NOTE}`;
    const inserted = this.store
      .q(CHARGE_SQL)
      .run(...chargeParams({ id, accountId, keyHash, upstreamNanos: upstream, feeNanos: fee, note, now }));
    if (Number(inserted.changes) === 0) return 'released';
    if (upstream + fee > 0) this.store.charge(accountId, keyHash, upstream + fee, now);
    this.store.addGeneration(record);
    return 'charged';
  }
}
