/**
 * The bounds on money, chosen so that every amount and every sum of amounts is an exact integer of
 * nano-dollars in a JavaScript number (and in both stores' BIGINT columns):
 *
 * - one amount that enters (a top-up, refund or adjustment, a key limit, an alert threshold, one
 *   request's hold) is at most $1,000,000 (10^15 nanos);
 * - anything stored or summed (a balance, a key's usage, what is held, a ledger row) stays within
 *   ±(2^53 − 1) nanos, about ±$9,007,199.25; the store refuses, atomically, a credit that would
 *   take a balance past it;
 * - a configured price is at most $1,000 per token (or per request, or per image); a markup at
 *   most 1,000%;
 * - a per-key rate (requests or tokens per minute) is at most 2,147,483,647.
 *
 * Amounts in USD are exact decimals with at most 9 decimal places (the unit is one nano-dollar);
 * anything else — NaN, infinities, 1e300, a string that is not a plain decimal, a fraction of a
 * nano-dollar — is refused with a 400 naming the field and the bound.
 */
import { GatewayError } from './errors.ts';

/** The most one amount entering the ledger may be: $1,000,000. */
export const MAX_AMOUNT_NANOS = 1_000_000_000_000_000;
/** The most any stored money value (balance, usage, holds, ledger row) may be in magnitude: 2^53 − 1 nanos. */
export const MAX_STORED_NANOS = Number.MAX_SAFE_INTEGER;
/** The most a configured price may be: $1,000 per unit, in femto-dollars. */
export const MAX_PRICE_FEMTO = 1_000n * 10n ** 15n;
/** The most a configured markup may be, in percent. */
export const MAX_MARKUP_PERCENT = 1_000;
/** The most a per-key rate limit may be (PostgreSQL INTEGER). */
export const MAX_PER_MINUTE = 2_147_483_647;

/** `$1,000,000`, `$9,007,199.254740991`: a bound as people read it. */
export function usdBound(nanos: number | bigint): string {
  if (typeof nanos === 'number' && !Number.isFinite(nanos)) return nanos > 0 ? 'more than any amount' : 'less than any amount';
  const n = typeof nanos === 'bigint' ? nanos : BigInt(Math.trunc(nanos));
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const whole = (abs / 1_000_000_000n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}$${whole}${frac ? `.${frac}` : ''}`;
}

/** A 400 about an amount: names the field and, when it is about size, the bound. */
export class AmountError extends GatewayError {
  constructor(param: string, message: string, bound?: number | bigint) {
    super('invalid_request', `${param}: ${message}`, {
      retryable: false,
      metadata: { param, ...(bound !== undefined ? { bound_nanos: Number(bound), bound_usd: usdBound(bound) } : {}) },
    });
  }
}

const DECIMAL = /^([-+]?)(\d+)?(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/;

/**
 * An exact decimal (a JSON number or a string such as "12.5", "1e-7") scaled by 10^scale, as a
 * bigint, or undefined when the text is not a plain decimal. `fractional` is set when digits
 * remain past the scale (the value is not a whole number of units).
 */
export function exactScaled(v: number | string, scale: number): { value: bigint; fractional: boolean } | undefined {
  if (typeof v === 'number' && !Number.isFinite(v)) return undefined;
  // String(number) is the shortest decimal that reads back as the same double: what the client wrote.
  const m = DECIMAL.exec(typeof v === 'number' ? String(v) : v.trim());
  if (!m || (m[2] === undefined && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  const digits = ((m[2] ?? '') + frac).replace(/^0+(?=\d)/, '');
  const exp = Number(m[4] ?? 0) - frac.length + scale;
  // Beyond 40 digits the value is far past every bound: keep the bigint small.
  if (digits !== '0' && digits.replace(/^0+/, '').length + exp > 40)
    return { value: (m[1] === '-' ? -1n : 1n) * 10n ** 40n, fractional: false };
  let value: bigint;
  let fractional = false;
  if (exp >= 0) value = BigInt(digits) * 10n ** BigInt(exp);
  else {
    const div = 10n ** BigInt(-exp);
    value = BigInt(digits) / div;
    fractional = BigInt(digits) % div !== 0n;
  }
  return { value: m[1] === '-' ? -value : value, fractional };
}

export interface UsdOptions {
  /** The least allowed, in nanos (0 for amounts that cannot be negative). */
  minNanos: number;
  /** The most allowed, in nanos. */
  maxNanos: number;
  /** Zero is refused (a top-up of nothing). */
  nonZero?: boolean;
  /** Takes decimal text (the CLI's arguments); JSON bodies give amounts as numbers. */
  text?: boolean;
}

/**
 * Parses an amount of USD (a JSON number, or with `text` a decimal string) into exact nano-dollars, within
 * bounds; anything else is an AmountError naming `param` and the bound.
 */
export function parseUsd(v: unknown, param: string, o: UsdOptions): number {
  if (typeof v !== 'number' && (typeof v !== 'string' || !o.text)) {
    throw new AmountError(param, `expected an amount of USD (a number), got ${v === null ? 'null' : typeof v}`);
  }
  const parsed = exactScaled(v, 9);
  if (!parsed) throw new AmountError(param, `expected an amount of USD as a plain decimal number, got ${JSON.stringify(v)}`);
  if (parsed.fractional) throw new AmountError(param, `has more than 9 decimal places; amounts are whole nano-dollars ($0.000000001)`);
  const { value } = parsed;
  if (value > BigInt(o.maxNanos))
    throw new AmountError(param, `must be at most ${usdBound(o.maxNanos)} (the bound on ${boundName(o.maxNanos)})`, o.maxNanos);
  if (value < BigInt(o.minNanos)) {
    if (o.minNanos === 0) throw new AmountError(param, 'must not be negative');
    throw new AmountError(param, `must be at least ${usdBound(o.minNanos)} (the bound on ${boundName(-o.minNanos)})`, o.minNanos);
  }
  if (o.nonZero && value === 0n) throw new AmountError(param, 'must not be zero');
  return Number(value);
}

function boundName(nanos: number): string {
  return nanos === MAX_AMOUNT_NANOS ? 'a single amount' : 'this amount';
}

/** A price as configured (USD per token, decimal) within MAX_PRICE_FEMTO; a message naming the bound otherwise. */
export function priceProblem(v: string): string | undefined {
  const parsed = exactScaled(v, 15);
  if (!parsed || parsed.value < 0n) return 'must be a non-negative decimal number (USD per token)';
  if (parsed.value > MAX_PRICE_FEMTO) return `must be at most 1000 (USD per token, request or image: the bound on a configured price)`;
  return undefined;
}

/**
 * Refuses a stored amount that would leave the exact range: a balance, a key's usage, a sum of
 * holds. `what` says which, for the 400.
 */
export function assertStorable(param: string, what: string, resulting: number | bigint): void {
  const r = BigInt(resulting);
  if (r > BigInt(MAX_STORED_NANOS) || r < -BigInt(MAX_STORED_NANOS)) {
    throw new AmountError(
      param,
      `would make ${what} ${usdBound(r)}, beyond ${usdBound(MAX_STORED_NANOS)} (the bound on a stored balance, which keeps every sum exact)`,
      MAX_STORED_NANOS,
    );
  }
}

/** A credit's amount as the store takes it: a whole number of nanos within ±MAX_AMOUNT_NANOS. */
export function assertCreditAmount(amountNanos: number): void {
  if (!Number.isSafeInteger(amountNanos)) throw new AmountError('amount', `must be a whole number of nano-dollars, got ${amountNanos}`);
  if (Math.abs(amountNanos) > MAX_AMOUNT_NANOS) {
    throw new AmountError('amount', `must be at most ${usdBound(MAX_AMOUNT_NANOS)} (the bound on a single amount)`, MAX_AMOUNT_NANOS);
  }
}

/**
 * Refuses a credit that would take an account's balance or its credits bought past the stored
 * bound; the store calls it with the account row locked, inside the credit's transaction.
 */
export function assertCreditFits(
  accountId: string,
  balanceNanos: unknown,
  purchasedNanos: unknown,
  amountNanos: number,
  topup: boolean,
): void {
  assertStorable('amount', `account ${accountId}'s balance`, storedBig(balanceNanos) + BigInt(amountNanos));
  if (topup) assertStorable('amount', `account ${accountId}'s credits bought`, storedBig(purchasedNanos) + BigInt(amountNanos));
}

/** A stored value as a bigint, whatever the driver returned (a number, a bigint, a string; ±Infinity as far past any bound). */
function storedBig(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  const x = Number(v ?? 0);
  if (Number.isNaN(x)) return 0n;
  if (!Number.isFinite(x)) return x > 0 ? 10n ** 30n : -(10n ** 30n);
  return BigInt(Math.trunc(x));
}
