/**
 * Amounts that enter are exact nano-dollars within documented bounds, and everything else is a
 * 400 that names the field and the bound.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AmountError,
  MAX_AMOUNT_NANOS,
  MAX_STORED_NANOS,
  assertCreditFits,
  parseUsd,
  priceProblem,
  usdBound,
} from '../../src/spec/money-bounds.ts';
import type { UsdOptions } from '../../src/spec/money-bounds.ts';

const amount: UsdOptions = { minNanos: 0, maxNanos: MAX_AMOUNT_NANOS, text: true };
const refused = (v: unknown, pattern: RegExp, o = amount) =>
  assert.throws(
    () => parseUsd(v, 'amount', o),
    (e: unknown) => e instanceof AmountError && e.status === 400 && e.metadata.param === 'amount' && pattern.test(e.message),
  );

test('exact amounts, from numbers and decimal strings', () => {
  assert.equal(parseUsd(25, 'amount', amount), 25_000_000_000);
  assert.equal(parseUsd(0.1, 'amount', amount), 100_000_000);
  assert.equal(parseUsd('2.50', 'amount', amount), 2_500_000_000);
  assert.equal(parseUsd(1e-9, 'amount', amount), 1);
  assert.equal(parseUsd(0.000000001, 'amount', amount), 1);
  assert.equal(parseUsd(1_000_000, 'amount', amount), MAX_AMOUNT_NANOS);
  assert.equal(parseUsd('1000000.000000000', 'amount', amount), MAX_AMOUNT_NANOS);
  assert.equal(parseUsd(-3, 'amount', { minNanos: -MAX_AMOUNT_NANOS, maxNanos: MAX_AMOUNT_NANOS }), -3_000_000_000);
  assert.equal(parseUsd('-3', 'amount', { minNanos: -MAX_AMOUNT_NANOS, maxNanos: MAX_AMOUNT_NANOS, text: true }), -3_000_000_000);
});

test('past the bound, the 400 names it', () => {
  refused(1e9, /must be at most \$1,000,000 \(the bound on a single amount\)/);
  refused(1_000_000.000000001, /at most \$1,000,000/);
  refused(1e19, /at most \$1,000,000/);
  refused(1e300, /at most \$1,000,000/);
  refused('1e300', /at most \$1,000,000/);
  refused(-1e300, /must be at least -\$1,000,000/, { minNanos: -MAX_AMOUNT_NANOS, maxNanos: MAX_AMOUNT_NANOS, text: true });
});

test('not a plain amount: refused clearly', () => {
  refused(Number.NaN, /plain decimal/);
  refused(Number.POSITIVE_INFINITY, /plain decimal/);
  refused('NaN', /plain decimal/);
  refused('Infinity', /plain decimal/);
  refused('0x10', /plain decimal/);
  refused('', /plain decimal/);
  refused('12abc', /plain decimal/);
  refused(null, /expected an amount of USD/);
  refused('5', /expected an amount of USD \(a number\), got string/, { minNanos: 0, maxNanos: MAX_AMOUNT_NANOS });
  refused(true, /expected an amount of USD/);
  refused(-5, /must not be negative/);
  refused(1e-10, /more than 9 decimal places/);
  refused('0.0000000001', /more than 9 decimal places/);
  refused(0.1234567891, /more than 9 decimal places/);
  refused(0, /must not be zero/, { ...amount, nonZero: true });
});

test('a credit that would take a balance past 2^53 − 1 nanos is refused, naming the bound', () => {
  assertCreditFits('a', MAX_STORED_NANOS - 10, 0, 10, true);
  assert.throws(
    () => assertCreditFits('a', MAX_STORED_NANOS - 10, 0, 11, false),
    (e: unknown) => e instanceof AmountError && /beyond \$9,007,199\.254740991/.test(e.message),
  );
  assert.throws(() => assertCreditFits('a', 0, MAX_STORED_NANOS, 1, true), /credits bought/);
  assert.throws(() => assertCreditFits('a', -MAX_STORED_NANOS, 0, -1, false), /balance/);
  // Whatever a driver returns for a stored value, including one past any bound.
  assert.throws(() => assertCreditFits('a', 10n ** 18n, 0, 1, false), /balance/);
  assert.throws(() => assertCreditFits('a', Number.POSITIVE_INFINITY, 0, 1, false), /balance/);
});

test('configured prices are bounded', () => {
  assert.equal(priceProblem('0.00000015'), undefined);
  assert.equal(priceProblem('1000'), undefined);
  assert.match(priceProblem('1000.000001') ?? '', /at most 1000/);
  assert.match(priceProblem('1e300') ?? '', /at most 1000/);
  assert.equal(usdBound(MAX_STORED_NANOS), '$9,007,199.254740991');
});
