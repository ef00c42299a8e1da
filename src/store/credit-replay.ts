/**
 * A credit's id makes it idempotent: the same credit sent again credits nothing. The same id with a
 * different account, kind or amount is not a retry but a mistake (a reused id, a changed amount),
 * and answering "already credited" would leave the operator believing the new amount landed. It is
 * refused, naming what the id already stands for.
 */
import { GatewayError } from '../spec/errors.ts';
import { usdBound } from '../spec/money-bounds.ts';
import type { CreditRequest } from './types.ts';

/** The ledger row the id already names (`account_id`, `kind`, `amount_nanos`), as either store reads it. */
export type CreditedRow = Record<string, unknown>;

/** Returns quietly for a true replay; throws a 400 when the id was used for another credit. */
export function assertSameCredit(c: CreditRequest, row: CreditedRow | undefined): void {
  if (!row) return;
  const amount = BigInt(String(row.amount_nanos));
  if (String(row.account_id) === c.accountId && String(row.kind) === c.kind && amount === BigInt(c.amountNanos)) return;
  throw new GatewayError(
    'invalid_request',
    `Credit id ${JSON.stringify(c.id)} was already used for a ${String(row.kind)} of ${usdBound(amount)} to account ${String(row.account_id)}; ` +
      'an id credits once: send this credit with a new id.',
    {
      retryable: false,
      metadata: { id: c.id, existing: { account: String(row.account_id), kind: String(row.kind), amount_nanos: Number(amount) } },
    },
  );
}
