/**
 * Process leases and crashed streams on PostgreSQL: a lease says a gateway process is alive, a
 * checkpoint what its open streams had delivered, and a reclaim settles a dead owner's holds from
 * those checkpoints.
 */
import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import { deliveredRecord, leaseFromRow, ORPHAN_OWNERS_SQL, RECLAIM_NOTE } from '../rows.ts';
import { chargeParams, chargeSql, checkpointParams, checkpointSql } from '../row-writes.ts';
import type { Row } from '../rows.ts';
import type { ApiKeyRecord, GenerationRecord, HoldCheckpoint, ProcessLease } from '../types.ts';
import type { Param } from './connection.ts';

const CHARGE_SQL = chargeSql((i) => `$${i}`);

/**
 * What leases need of the store; a reclaim is built from the store's own money steps, so it takes
 * its locks in the store's one order and never deadlocks a settlement.
 */
export interface LeaseStore {
  q(sql: string, params?: readonly Param[], client?: PoolClient): Promise<QueryResult<Row & QueryResultRow>>;
  tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T>;
  drop(cl: PoolClient, id: string): Promise<{ dropped: boolean; keys: Map<string, ApiKeyRecord>; row?: Row }>;
  spend(cl: PoolClient, key: ApiKeyRecord | undefined, accountId: string, charge: number, now: Date): Promise<void>;
  insertGeneration(cl: PoolClient, g: GenerationRecord): Promise<unknown>;
}

export class Leases {
  private readonly store: LeaseStore;

  constructor(store: LeaseStore) {
    this.store = store;
  }

  async renewLease(l: ProcessLease): Promise<void> {
    await this.store.q(
      `INSERT INTO process_leases (owner, host, pid, expires_at, started_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at`,
      [l.owner, l.host, l.pid, l.expiresAt, l.startedAt],
    );
  }

  async endLease(owner: string, expiredBefore?: Date): Promise<void> {
    if (expiredBefore)
      await this.store.q('DELETE FROM process_leases WHERE owner = $1 AND expires_at < $2', [owner, expiredBefore.toISOString()]);
    else await this.store.q('DELETE FROM process_leases WHERE owner = $1', [owner]);
  }

  async listLeases(): Promise<ProcessLease[]> {
    return (await this.store.q('SELECT * FROM process_leases')).rows.map(leaseFromRow);
  }

  async orphanOwners(): Promise<string[]> {
    return (await this.store.q(ORPHAN_OWNERS_SQL)).rows.map((r) => String(r.owner));
  }

  async checkpointHolds(cs: readonly HoldCheckpoint[]): Promise<void> {
    if (cs.length === 0) return;
    const sql = checkpointSql((i) => `$${i}`);
    // One transaction (one commit) for the whole batch, in id order so two batches never deadlock.
    const sorted = [...cs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    await this.store.tx(async (cl) => {
      for (const c of sorted) await this.store.q(sql, checkpointParams(c), cl);
    });
  }

  async reclaimHolds(owners: readonly string[], now: Date): Promise<{ released: number; charged: number }> {
    let released = 0;
    let charged = 0;
    for (const owner of owners) {
      const ids = (await this.store.q('SELECT id FROM reservations WHERE owner = $1', [owner])).rows.map((r) => String(r.id));
      for (const id of ids) {
        const outcome = await this.store.tx((cl) => this.reclaim(cl, id, now));
        if (outcome === 'charged') charged++;
        if (outcome !== 'none') released++;
      }
    }
    return { released, charged };
  }

  /** Drops a dead owner's hold, charging what its stream had delivered by its last checkpoint. */
  private async reclaim(cl: PoolClient, id: string, now: Date): Promise<'none' | 'released' | 'charged'> {
    const { dropped, keys, row } = await this.store.drop(cl, id);
    if (!dropped || !row) return 'none';
    const record = deliveredRecord(row);
    if (!record) return 'released';
    const upstream = Number(row.delivered_upstream_nanos);
    const fee = Number(row.delivered_fee_nanos);
    const accountId = String(row.account_id);
    const keyHash = String(row.key_hash);
    const note = `${record.model}: ${RECLAIM_NOTE}`;
    const inserted = await this.store.q(
      CHARGE_SQL,
      chargeParams({ id, accountId, keyHash, upstreamNanos: upstream, feeNanos: fee, note, now }),
      cl,
    );
    if (!inserted.rowCount) return 'released';
    await this.store.spend(cl, keys.get(keyHash), accountId, upstream + fee, now);
    await this.store.insertGeneration(cl, record);
    return 'charged';
  }
}
