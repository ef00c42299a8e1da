/**
 * A worker's blocks of rate units: what the primary granted it beyond a request's own cost
 * (MemoryRateStore.grant), spent here without asking. The primary charged the whole block in the
 * bucket of the grant, so a block is spendable only while that bucket is the current one (a
 * second for a minute's window): spending it then is the very charge each request would have
 * made itself, and the sum over any window stays within the limit. What is left goes back at the
 * next ask, or at once when the primary recalls it.
 */
import { bucketMs, type RateRule } from '../limits/types.ts';
import type { ReturnedBlock } from './messages.ts';

interface Units {
  name: string;
  windowMs: number;
  /** The limit it was granted under: a changed limit asks the primary again. */
  limit: number;
  left: number;
}

export interface Block {
  /** When it was granted: the bucket it is charged in. */
  at: number;
  /** Spendable before this (the end of the grant's bucket, the earliest over its rules). */
  until: number;
  /** Earliest time still in the grant's bucket. */
  from: number;
  units: Units[];
}

/** Requests a block asks for: twice what the last one served, within these bounds. */
export const MIN_WANT = 4;
export const MAX_WANT = 4_096;

export function wantFor(served: number): number {
  return Math.min(MAX_WANT, Math.max(MIN_WANT, 2 * served));
}

export function newBlock(rules: readonly RateRule[], at: number, granted: readonly number[]): Block {
  let from = Number.NEGATIVE_INFINITY;
  let until = Number.POSITIVE_INFINITY;
  for (const r of rules) {
    const g = bucketMs(r.windowMs);
    const start = Math.floor(at / g) * g;
    from = Math.max(from, start);
    until = Math.min(until, start + g);
  }
  return { at, from, until, units: rules.map((r, i) => ({ name: r.name, windowMs: r.windowMs, limit: r.limit, left: granted[i] })) };
}

/** Spends one request of `rules` from the block if it covers every rule now; false (nothing spent) if not. */
export function spend(b: Block, rules: readonly RateRule[], now: number): boolean {
  if (now < b.from || now >= b.until || rules.length !== b.units.length) return false;
  for (const [i, r] of rules.entries()) {
    const u = b.units[i];
    if (u.name !== r.name || u.windowMs !== r.windowMs || u.limit !== r.limit || u.left < Math.max(0, Math.ceil(r.cost))) return false;
  }
  for (const [i, r] of rules.entries()) b.units[i].left -= Math.max(0, Math.ceil(r.cost));
  return true;
}

/**
 * A correction of a charge (RateStore.adjust) settled inside the block while its bucket is
 * current: an extra charge (made now, as the primary would) is spent from it if it covers it; a
 * refund adds to what is left if the charge was made in the block's bucket (a refund of an older
 * bucket must leave that bucket, not move into this one). False: the primary must apply it.
 */
export function correct(b: Block, rule: string, windowMs: number, delta: number, now: number, chargedAt: number): boolean {
  if (now < b.from || now >= b.until) return false;
  if (delta < 0 && (chargedAt < b.from || chargedAt >= b.until)) return false;
  const u = b.units.find((x) => x.name === rule && x.windowMs === windowMs);
  if (!u) return false;
  // The store's own rounding: charges up, refunds toward zero.
  const d = delta > 0 ? Math.ceil(delta) : Math.trunc(delta);
  if (d > u.left) return false;
  u.left -= d;
  return true;
}

/** What is left, to give back; null when nothing is. */
export function leftover(b: Block): ReturnedBlock | null {
  const left = b.units.filter((u) => u.left > 0).map((u): [string, number, number] => [u.name, u.windowMs, u.left]);
  return left.length > 0 ? { at: b.at, left } : null;
}
