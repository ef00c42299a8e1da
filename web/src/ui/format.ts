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

/** $1,234.56 for large amounts; small ones keep their significant digits ($0.000123). */
export function money(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || Number.isNaN(usd)) return '—';
  const abs = Math.abs(usd);
  const digits = abs === 0 ? 2 : abs >= 1 ? 2 : Math.min(9, Math.max(2, 1 - Math.floor(Math.log10(abs)) + 2));
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
