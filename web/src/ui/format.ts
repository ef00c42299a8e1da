/**
 * Numbers for people. The API sends USD as JSON numbers (exact nano-dollar amounts rendered in
 * dollars); sums are done in integer nano-dollars (toNanos) so that totals do not drift.
 */

export const toNanos = (usd: number): number => Math.round(usd * 1e9);
export const fromNanos = (nanos: number): number => nanos / 1e9;

/** Sum of USD amounts, exactly (via integer nano-dollars). */
export function sumUsd(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += toNanos(v);
  return fromNanos(n);
}

/** Exact to the nano-dollar under $1 ($0.00046485), to 4 places up to $1,000, cents beyond. */
export function money(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || Number.isNaN(usd)) return '—';
  const abs = Math.abs(usd);
  const digits = abs >= 1000 ? 2 : abs >= 1 ? 4 : 9;
  const s = abs.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: digits });
  return `${usd < 0 ? '-' : ''}$${s}`;
}

export function int(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

/** 1.2K, 3.4M: for axes and tight cells. */
export function compact(n: number): string {
  return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
}

export function shortHash(h: string): string {
  return h.length > 12 ? `${h.slice(0, 6)}…${h.slice(-4)}` : h;
}

/** Axis labels for money: short ($1.2K, $0.05, $0.00012). */
export function moneyShort(usd: number): string {
  if (usd === 0) return '$0';
  const abs = Math.abs(usd);
  if (abs >= 1000) return `$${compact(usd)}`;
  return `$${Number(usd.toPrecision(2))}`;
}
