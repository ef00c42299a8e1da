/**
 * One endpoint's last 30 minutes in memory: a ring of SLOTS fixed buckets, reused as time moves
 * on. Recording is O(1) and memory is bounded (SLOTS × 2 × RESERVOIR numbers at most).
 */
import type { AttemptOutcome } from '../types.ts';
import { epochOf, RESERVOIR, SHORT_BUCKETS, SLOTS } from './policy.ts';
import type { OutcomeKind } from './policy.ts';
import { emptyBucket, reservoirAdd } from './summary.ts';
import type { Bucket } from './summary.ts';

export class Window {
  private readonly ring: Array<Bucket | undefined> = new Array(SLOTS);

  record(kind: OutcomeKind, outcome: AttemptOutcome, at: number): void {
    const epoch = epochOf(at);
    const slot = epoch % SLOTS;
    let b = this.ring[slot];
    if (!b || b.epoch !== epoch) {
      // An outcome stamped older than the slot's current bucket belongs to a window already gone.
      if (b && b.epoch > epoch) return;
      b = emptyBucket(epoch);
      this.ring[slot] = b;
    }
    if (kind === 'ok') b.ok++;
    else if (kind === 'fail') b.fail++;
    if (isSample(outcome.ttftMs)) reservoirAdd(b.ttft, b.ttftSeen++, outcome.ttftMs, RESERVOIR, Math.random());
    if (isSample(outcome.tokensPerSecond)) reservoirAdd(b.tps, b.tpsSeen++, outcome.tokensPerSecond, RESERVOIR, Math.random());
  }

  buckets(): Bucket[] {
    return this.ring.filter((b): b is Bucket => b !== undefined);
  }

  /**
   * Successes and failures in the 5-minute window ending at `now`, counting only buckets after
   * `sinceEpoch` (the bucket in which the circuit last closed: what made it open must not re-open it).
   */
  recent(now: number, sinceEpoch: number): { ok: number; fail: number } {
    const cur = epochOf(now);
    let ok = 0;
    let fail = 0;
    for (let e = cur; e > cur - SHORT_BUCKETS && e > sinceEpoch; e--) {
      const b = this.ring[((e % SLOTS) + SLOTS) % SLOTS];
      if (b?.epoch === e) {
        ok += b.ok;
        fail += b.fail;
      }
    }
    return { ok, fail };
  }
}

function isSample(v: number | undefined): v is number {
  return v !== undefined && Number.isFinite(v) && v >= 0;
}
