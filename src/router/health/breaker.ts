/**
 * One endpoint's circuit breaker, in memory. The Redis implementation runs the same state machine
 * in Lua (redis-scripts.ts); keep the two in step.
 *
 *   closed --(threshold consecutive failures, or <50% success over 5 min with >=10 outcomes)--> open
 *   open --(cooldown passed: the next isAvailable gets the one probe)--> half-open
 *   half-open --(success)--> closed, cooldown reset
 *   half-open --(failure)--> open, cooldown doubled (capped)
 *   half-open --(429: busy, so neither verdict)--> open, same cooldown
 */
import type { EndpointStats } from '../types.ts';
import { epochOf, RATE_MIN_SAMPLES, RATE_TRIP } from './policy.ts';
import type { OutcomeKind, ResolvedHealthOptions } from './policy.ts';

export type CircuitState = EndpointStats['circuit'];

export class Breaker {
  private state: 'closed' | 'open' | 'half-open' = 'closed';
  private failures = 0;
  /** When an open circuit admits its probe. */
  private openUntil = 0;
  private cooldown: number;
  /** When the half-open probe was let through. */
  private probeAt = 0;
  /** Bucket epoch in which the circuit last closed; the success-rate trip ignores it and older ones. */
  private closedEpoch = -1;
  private readonly opts: ResolvedHealthOptions;

  constructor(opts: ResolvedHealthOptions) {
    this.opts = opts;
    this.cooldown = opts.cooldownMs;
  }

  /** Whether a request may go now. Grants the half-open probe, so it is not a pure read. */
  allow(now: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (now < this.openUntil) return false;
      this.state = 'half-open';
      this.probeAt = now;
      return true;
    }
    // Half-open: the probe is out. Another goes only if the first never reported back.
    if (now - this.probeAt >= this.opts.probeTimeoutMs) {
      this.probeAt = now;
      return true;
    }
    return false;
  }

  /** The state as `stats` reports it: an open circuit whose cooldown has passed is half-open. */
  view(now: number): CircuitState {
    return this.state === 'open' && now >= this.openUntil ? 'half-open' : this.state;
  }

  get closedSince(): number {
    return this.closedEpoch;
  }

  /**
   * `recent` gives the 5-minute outcome counts after `closedSince`, this outcome included; it is only
   * consulted when a failure might trip a closed circuit.
   */
  onOutcome(kind: OutcomeKind, at: number, recent: () => { ok: number; fail: number }): void {
    if (kind === 'capacity') {
      if (this.state === 'half-open') this.open(at);
      return;
    }
    if (kind === 'ok') {
      this.failures = 0;
      // Only a half-open circuit closes on a success; a straggler that started before the circuit
      // opened says nothing about the endpoint now.
      if (this.state === 'half-open') {
        this.state = 'closed';
        this.cooldown = this.opts.cooldownMs;
        this.closedEpoch = epochOf(at);
      }
      return;
    }
    this.failures++;
    if (this.state === 'half-open') {
      this.cooldown = Math.min(this.cooldown * 2, this.opts.maxCooldownMs);
      this.open(at);
      return;
    }
    if (this.state !== 'closed') return;
    if (this.failures >= this.opts.failureThreshold || tripsOnRate(recent())) {
      this.cooldown = this.opts.cooldownMs;
      this.open(at);
    }
  }

  private open(at: number): void {
    this.state = 'open';
    this.openUntil = at + this.cooldown;
  }
}

function tripsOnRate({ ok, fail }: { ok: number; fail: number }): boolean {
  const n = ok + fail;
  return n >= RATE_MIN_SAMPLES && ok / n < RATE_TRIP;
}
