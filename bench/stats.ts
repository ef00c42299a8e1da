/** Small statistics and formatting helpers. */

/** Nearest-rank percentile of unsorted samples (p in 0..100); NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function fmtMs(ms: number, digits = 3): string {
  return Number.isFinite(ms) ? `${ms.toFixed(digits)} ms` : 'n/a';
}

export function fmtAddedMs(ms: number, digits = 3): string {
  return Number.isFinite(ms) ? `${ms >= 0 ? '+' : ''}${ms.toFixed(digits)} ms` : 'n/a';
}

export function fmtRate(perSec: number): string {
  return Number.isFinite(perSec) ? `${Math.round(perSec).toLocaleString('en-US')} req/s` : 'n/a';
}

export function fmtMB(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : 'n/a';
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
