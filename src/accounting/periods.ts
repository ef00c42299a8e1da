/**
 * Key limit periods, in UTC: a daily limit resets at midnight, weekly on Monday, monthly on the 1st.
 */
import type { LimitReset } from '../store/types.ts';

export function periodStart(reset: LimitReset, now: Date): Date {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  switch (reset) {
    case 'daily':
      return new Date(Date.UTC(y, m, d));
    case 'weekly': {
      const daysSinceMonday = (now.getUTCDay() + 6) % 7;
      return new Date(Date.UTC(y, m, d - daysSinceMonday));
    }
    case 'monthly':
      return new Date(Date.UTC(y, m, 1));
  }
}

export function nextPeriodStart(reset: LimitReset, now: Date): Date {
  const start = periodStart(reset, now);
  switch (reset) {
    case 'daily':
      return new Date(start.getTime() + 86_400_000);
    case 'weekly':
      return new Date(start.getTime() + 7 * 86_400_000);
    case 'monthly':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  }
}

/**
 * The start of a new limit period when `now` has left the one a key's usage counts in (so its
 * usage restarts from zero), or undefined while it has not or the key's limit never resets.
 */
export function rolledPeriodStart(reset: LimitReset | null, currentStart: string | null, now: Date): string | undefined {
  if (!reset) return undefined;
  const start = periodStart(reset, now).toISOString();
  return currentStart !== null && currentStart >= start ? undefined : start;
}
