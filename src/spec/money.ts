/**
 * Money arithmetic. Prices are integers of femto-dollars (1e-15 USD) per token, so every published
 * price is exact; costs are summed in femto-dollars as bigint and stored as integer nano-dollars
 * (1e-9 USD), rounded once, half up. Floats appear only when a number is rendered for JSON.
 */
export const FEMTO_PER_NANO = 1_000_000n;
export const FEMTO_DIGITS = 15;

/**
 * Parses a non-negative decimal (`"0.00000088"`, `"1.5e-7"`, `3`) into an integer scaled by
 * 10^scale, rounding half up past that precision. Throws on anything else.
 */
export function parseScaledDecimal(value: string | number, scale: number): bigint {
  const text = typeof value === 'number' ? numberToDecimalString(value) : value.trim();
  const m = /^(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(text);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new Error(`not a decimal number: ${JSON.stringify(value)}`);
  const digits = (m[1] || '0') + (m[2] ?? '');
  const exp = Number(m[3] ?? 0) - (m[2] ?? '').length + scale;
  if (exp >= 0) return BigInt(digits) * 10n ** BigInt(exp);
  const div = 10n ** BigInt(-exp);
  const n = BigInt(digits);
  return (n + div / 2n) / div;
}

/** The shortest exact decimal for a JS number (handles `1e-7`). */
function numberToDecimalString(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a non-negative finite number: ${n}`);
  return String(n);
}

/** USD-per-token decimal string → femto-dollars per token. */
export const usdPerTokenToFemto = (v: string | number): bigint => parseScaledDecimal(v, FEMTO_DIGITS);

/** USD-per-million-tokens (how catalogs publish) → femto-dollars per token. */
export const usdPerMillionToFemto = (v: string | number): bigint => parseScaledDecimal(v, FEMTO_DIGITS - 6);

/** Renders an integer scaled by 10^scale as a plain decimal string without trailing zeros. */
export function formatScaled(value: bigint, scale: number): string {
  const neg = value < 0n;
  const abs = neg ? -value : value;
  const s = abs.toString().padStart(scale + 1, '0');
  const int = s.slice(0, s.length - scale);
  const frac = s.slice(s.length - scale).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** Femto-dollars per token → OpenRouter's pricing string (USD per token). */
export const femtoToUsdString = (femto: bigint): string => formatScaled(femto, FEMTO_DIGITS);

/** Femto-dollars → nano-dollars, rounded half up. */
export function femtoToNanos(femto: bigint): number {
  return Number((femto + FEMTO_PER_NANO / 2n) / FEMTO_PER_NANO);
}

/**
 * Nano-dollars → USD as a JSON number (display only). IEEE division is correctly rounded and 1e9
 * is exact, so for any safe integer this is the double nearest to the exact decimal, the same
 * number parsing its decimal string gives.
 */
export function nanosToUsd(nanos: number): number {
  return nanos / 1e9;
}
