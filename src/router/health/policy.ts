/**
 * What health tracking counts and when a circuit trips: the constants and options shared by the
 * in-process and the Redis-backed implementations, so both apply one policy.
 */
import type { ErrorType } from '../../spec/errors.ts';
import type { AttemptOutcome } from '../types.ts';

/** Outcomes are counted in fixed 30 s buckets; 60 of them cover the 30-minute window. */
export const BUCKET_MS = 30_000;
export const SLOTS = 60;
/** The 5-minute window is the newest 10 buckets. */
export const SHORT_BUCKETS = 10;
/** Latency and throughput samples kept per bucket (a uniform reservoir beyond that). */
export const RESERVOIR = 64;
/** The success-rate trip needs this many outcomes in the 5-minute window... */
export const RATE_MIN_SAMPLES = 10;
/** ...and trips below this success rate. */
export const RATE_TRIP = 0.5;

export interface HealthOptions {
  /** Consecutive failures (429s aside) that open a closed circuit. Default 3. */
  failureThreshold?: number;
  /** How long a circuit stays open before one probe is let through. Default 30 s. */
  cooldownMs?: number;
  /** Cap for the cooldown, which doubles each time a probe fails. Default 5 min. */
  maxCooldownMs?: number;
  /** Outcomes a window needs before it reports an uptime. Default 5. */
  minSamples?: number;
  /**
   * A probe whose outcome is never recorded (its caller crashed or forgot) stops blocking the
   * endpoint after this long, and another probe may go. Default 60 s.
   */
  probeTimeoutMs?: number;
}

export type ResolvedHealthOptions = Required<HealthOptions>;

export function resolveOptions(o: HealthOptions = {}): ResolvedHealthOptions {
  const out = {
    failureThreshold: o.failureThreshold ?? 3,
    cooldownMs: o.cooldownMs ?? 30_000,
    maxCooldownMs: o.maxCooldownMs ?? 300_000,
    minSamples: o.minSamples ?? 5,
    probeTimeoutMs: o.probeTimeoutMs ?? 60_000,
  };
  for (const [k, v] of Object.entries(out)) {
    const min = k === 'failureThreshold' ? 1 : 0;
    if (!Number.isFinite(v) || v < min) throw new Error(`health option ${k} must be a number >= ${min} (got ${v})`);
  }
  out.maxCooldownMs = Math.max(out.maxCooldownMs, out.cooldownMs);
  return out;
}

/**
 * `capacity` (429) outcomes say the endpoint is busy, not down: they count neither for uptime nor
 * towards opening the circuit.
 */
export type OutcomeKind = 'ok' | 'fail' | 'capacity';

/**
 * The fault rule: only the provider's own failures count against its health: 5xx, timeouts
 * (408) and 429s (which health tracks as capacity, not downtime). A 4xx is the request's fault,
 * not the endpoint's, and Freeway's own dependencies failing (database, Redis in fail-closed
 * mode: `service_unavailable`) say nothing about the endpoint.
 */
export function isProviderFault(err: { type: ErrorType; status: number }): boolean {
  if (err.type === 'service_unavailable') return false;
  return err.status >= 500 || err.status === 429 || err.status === 408;
}

export function classify(o: AttemptOutcome): OutcomeKind {
  if (o.ok) return 'ok';
  return o.status === 429 ? 'capacity' : 'fail';
}

export function epochOf(ms: number): number {
  return Math.floor(ms / BUCKET_MS);
}
