/**
 * The columns whose values the schema itself bounds: every amount of money is a whole number of
 * nano-dollars within ±(2^53 − 1) (so every read and every sum is exact in a JavaScript number),
 * and per-key rates fit PostgreSQL's INTEGER. A migration lists them (`bounded`); each store turns
 * the list into its own constraints: CHECKs that also test the storage type on SQLite (whose
 * columns take any type: 1e19 would be stored as a float), range CHECKs on PostgreSQL (BIGINT is
 * already an integer). Values already out of bounds are first brought to the nearest bound, since
 * a constraint cannot be added over rows that break it; such a value was unreadable before.
 */
import { MAX_PER_MINUTE, MAX_STORED_NANOS } from '../spec/money-bounds.ts';

export interface BoundedColumn {
  table: string;
  column: string;
  min: number;
  max: number;
  nullable: boolean;
}

const money = (table: string, column: string, o: { signed?: boolean; nullable?: boolean } = {}): BoundedColumn => ({
  table,
  column,
  min: o.signed ? -MAX_STORED_NANOS : 0,
  max: MAX_STORED_NANOS,
  nullable: o.nullable ?? false,
});

/** Every money column (and per-key rate) of the schema as of the migration that bounds them. */
export const BOUNDED_COLUMNS: readonly BoundedColumn[] = [
  money('accounts', 'balance_nanos', { signed: true }),
  money('accounts', 'reserved_nanos'),
  money('accounts', 'purchased_nanos'),
  money('api_keys', 'limit_nanos', { nullable: true }),
  money('api_keys', 'usage_nanos'),
  money('api_keys', 'usage_total_nanos'),
  money('api_keys', 'reserved_nanos'),
  { table: 'api_keys', column: 'requests_per_minute', min: 1, max: MAX_PER_MINUTE, nullable: true },
  { table: 'api_keys', column: 'tokens_per_minute', min: 1, max: MAX_PER_MINUTE, nullable: true },
  money('ledger', 'amount_nanos', { signed: true }),
  money('ledger', 'upstream_nanos', { nullable: true }),
  money('ledger', 'fee_nanos', { nullable: true }),
  money('reservations', 'amount_nanos'),
  money('reservations', 'delivered_upstream_nanos'),
  money('reservations', 'delivered_fee_nanos'),
  money('generations', 'cost_nanos'),
  money('generations', 'prompt_cost_nanos'),
  money('generations', 'completion_cost_nanos'),
  money('generations', 'upstream_cost_nanos'),
  money('generations', 'fee_nanos'),
  money('alerts', 'threshold_value'),
];

/** The constraint's name: `<table>_<column>_bounds`. */
export const constraintName = (c: BoundedColumn): string => `${c.table}_${c.column}_bounds`;

function nullOk(c: BoundedColumn, test: string): string {
  return c.nullable ? `${c.column} IS NULL OR (${test})` : test;
}

/** SQLite: the value is stored as an integer (not a float, text or blob) and within bounds. */
export function sqliteCheck(c: BoundedColumn): string {
  return nullOk(c, `typeof(${c.column}) = 'integer' AND ${c.column} BETWEEN ${c.min} AND ${c.max}`);
}

/** PostgreSQL: within bounds (the column type makes it an integer). */
export function postgresCheck(c: BoundedColumn): string {
  return nullOk(c, `${c.column} BETWEEN ${c.min} AND ${c.max}`);
}

/**
 * SQLite: brings a value that breaks the check to the nearest one that passes (a float rounded,
 * ±infinity and anything past the bound to the bound, text to its number); NULL in a NOT NULL
 * column cannot occur.
 */
export function sqliteRepair(c: BoundedColumn): string {
  const x = c.column;
  return (
    `UPDATE ${c.table} SET ${x} = MAX(${c.min}, MIN(${c.max}, CAST(ROUND(${x}) AS INTEGER))) ` +
    `WHERE ${x} IS NOT NULL AND NOT (typeof(${x}) = 'integer' AND ${x} BETWEEN ${c.min} AND ${c.max})`
  );
}

export function postgresRepair(c: BoundedColumn): string {
  const x = c.column;
  return `UPDATE ${c.table} SET ${x} = GREATEST(${c.min}, LEAST(${c.max}, ${x})) WHERE ${x} NOT BETWEEN ${c.min} AND ${c.max}`;
}

/** PostgreSQL: the statements that bound `columns` (repairs, then one named CHECK per column). */
export function postgresBoundStatements(columns: readonly BoundedColumn[]): string[] {
  return [
    ...columns.map(postgresRepair),
    ...columns.map((c) => `ALTER TABLE ${c.table} ADD CONSTRAINT ${constraintName(c)} CHECK (${postgresCheck(c)})`),
  ];
}
