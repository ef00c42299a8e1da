/**
 * What the settlements of the current transaction take from account balances and key usage,
 * summed: a batch of charges to one key costs one update of the key and one of its account rather
 * than one of each per charge. The group commit lands them before any other operation in the
 * batch and before the commit, so nothing ever reads a balance without them.
 */
import type { StatementSync } from 'node:sqlite';
import { rolledPeriodStart } from '../../accounting/periods.ts';
import { chargeSql } from '../row-writes.ts';
import type { Row } from '../rows.ts';
import type { LimitReset } from '../types.ts';
import type { Deferred } from './group-commit.ts';

const DAY_MS = 86_400_000;

/** A charge's ledger row (rows.ts chargeParams), written with the settlement that takes it. */
export const CHARGE_SQL = chargeSql(() => '?');

export class PendingCharges implements Deferred {
  private readonly statement: (sql: string) => StatementSync;
  private readonly accounts = new Map<string, number>();
  private readonly keys = new Map<string, { nanos: number; now: Date }>();

  constructor(statement: (sql: string) => StatementSync) {
    this.statement = statement;
  }

  add(accountId: string, keyHash: string, nanos: number, now: Date): void {
    const pending = this.keys.get(keyHash);
    // Charges on both sides of a midnight (UTC) fall in different limit periods: the earlier land first.
    if (pending && Math.floor(pending.now.getTime() / DAY_MS) !== Math.floor(now.getTime() / DAY_MS)) this.land();
    this.accounts.set(accountId, (this.accounts.get(accountId) ?? 0) + nanos);
    const k = this.keys.get(keyHash);
    if (!k) this.keys.set(keyHash, { nanos, now });
    else {
      k.nanos += nanos;
      if (now > k.now) k.now = now;
    }
  }

  land(): void {
    for (const [id, nanos] of this.accounts)
      this.statement('UPDATE accounts SET balance_nanos = balance_nanos - ? WHERE id = ?').run(nanos, id);
    for (const [hash, { nanos, now }] of this.keys) {
      const period = this.statement('SELECT limit_reset, period_start FROM api_keys WHERE hash = ?').get(hash) as Row | undefined;
      if (!period) continue;
      // A new period (daily, weekly, monthly limit) starts these charges' usage from zero.
      const start = rolledPeriodStart(period.limit_reset as LimitReset | null, period.period_start as string | null, now);
      if (start !== undefined) {
        this.statement(
          'UPDATE api_keys SET usage_nanos = ?, period_start = ?, usage_total_nanos = usage_total_nanos + ? WHERE hash = ?',
        ).run(nanos, start, nanos, hash);
      } else {
        this.statement('UPDATE api_keys SET usage_nanos = usage_nanos + ?, usage_total_nanos = usage_total_nanos + ? WHERE hash = ?').run(
          nanos,
          nanos,
          hash,
        );
      }
    }
    this.discard();
  }

  discard(): void {
    this.accounts.clear();
    this.keys.clear();
  }
}
