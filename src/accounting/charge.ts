/**
 * What one generation charges its key: the upstream's cost plus Freeway's fee, or nothing when
 * zero-completion insurance waives it.
 */
import { feeFor } from './billing.ts';
import type { CostBreakdown } from './cost.ts';

/** The money side of one generation, in nano-dollars. */
export interface Charge {
  upstream: CostBreakdown;
  feeNanos: number;
  /** What the key pays: upstream + fee, or 0 under zero-completion insurance. */
  chargedNanos: number;
  /** True when insurance waived the charge (the upstream failed, or produced nothing). */
  insured: boolean;
  /** The processing tier the (last) upstream said it served: its price is what was charged. */
  serviceTier?: string;
}

/** A charge of nothing, for errors before anything was produced. */
export const NO_CHARGE: Charge = {
  upstream: { promptNanos: 0, completionNanos: 0, totalNanos: 0 },
  feeNanos: 0,
  chargedNanos: 0,
  insured: true,
};

/** How a generation ended, as far as insurance asks. */
export interface Outcome {
  /**
   * Whether the upstream produced output for the client. Each API says what its output is (a
   * generation's tokens or finish, see `generated`; an embedding's vectors).
   */
  produced: boolean;
  finishReason: string | null;
  cancelled?: boolean;
  /** A deadline of Freeway's ended the answer after content had reached the client (charged like a cancel). */
  cut?: boolean;
  error?: string | null;
}

/** Whether a generation produced anything: output tokens, or a finish (it ran to an end). */
export function generated(usage: { outputTokens: number }, finishReason: string | null): boolean {
  return usage.outputTokens > 0 || finishReason !== null;
}

/**
 * Zero-completion insurance: nothing is charged when the client received nothing from the
 * upstream: it failed (an error, or an error finish), or it ended without producing any output.
 * What output is depends on the API (`produced`): an embedding has no completion tokens, its
 * output is its vectors, so a successful embedding is always charged. A client that cancels pays
 * for what was produced, and so does one whose answer a deadline cut after content had reached it.
 */
export function isInsured(o: Outcome): boolean {
  if (o.cancelled || o.cut) return false;
  if (o.error || o.finishReason === 'error') return true;
  return !o.produced;
}

/** The charge for an upstream cost: the cost plus the fee (markup in basis points), or nothing when insured. */
export function chargeFor(upstream: CostBreakdown, insured: boolean, markupBp: number): Charge {
  const feeNanos = insured ? 0 : feeFor(upstream.totalNanos, markupBp);
  return { upstream, feeNanos, chargedNanos: insured ? 0 : upstream.totalNanos + feeNanos, insured };
}

/** The upstream's part of what the key pays (the charge without the fee): nothing when insured. */
export function upstreamCharged(c: Charge): number {
  return c.chargedNanos - c.feeNanos;
}
