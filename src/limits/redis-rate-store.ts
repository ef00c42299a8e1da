/**
 * The RateStore shared by every Freeway process on one Redis. Each decision is one Lua script
 * (EVALSHA through ioredis `defineCommand`, redis-rate-scripts.ts), so it is atomic and one round
 * trip — `admit` too, the key's limits and an endpoint's place together. The arithmetic mirrors
 * memory-rate-store.ts; both pass one behavioural suite.
 *
 * Layout, under the client's keyPrefix (`freeway:`) and this store's namespace (`limits:`):
 * - `<ns>rate:{<key>}:<rule>:<windowMs>`: hash, bucket index → units charged; expires a window
 *   and a bucket after its last charge.
 * - `<ns>slot:{<key>}`: sorted set, holder → lease expiry (ms epoch); expires with its last lease.
 * The `{<key>}` hash tag keeps a key's semaphore and rules in one Redis Cluster slot (`admit`
 * spans two keys' tags: it needs the one Redis server Freeway connects to, not a Cluster).
 *
 * Every call goes through the client's outage guard: while Redis is down it throws
 * RedisUnavailableError at once instead of asking (outage-fallback-store.ts decides what then).
 */
import { guardOf, type RedisClient, type RedisGuard } from '../infra/redis.ts';
import { ADJUST, DECIDE } from './redis-rate-scripts.ts';
import {
  bucketMs,
  type AcquireRequest,
  type AcquireResult,
  type AdmitResult,
  type RateRefusal,
  type RateRule,
  type RateStore,
  type SlotRequest,
  type TakeResult,
} from './types.ts';

type Reply = [number, number?, number?, number?, number?];

interface ScriptedClient {
  freewayLimitsDecide(numKeys: number, ...args: Array<string | number>): Promise<Reply>;
  freewayLimitsAdjust(key: string, ...args: Array<string | number>): Promise<number>;
}

export interface RedisRateStoreOptions {
  /** Prefix of every key of this store, after the client's own keyPrefix. Default `limits:`. */
  namespace?: string;
}

export class RedisRateStore implements RateStore {
  private readonly redis: RedisClient;
  private readonly ns: string;
  readonly guard: RedisGuard;

  /** `redis` stays the caller's: close() does not quit it. */
  constructor(redis: RedisClient, opts: RedisRateStoreOptions = {}) {
    this.redis = redis;
    this.ns = opts.namespace ?? 'limits:';
    this.guard = guardOf(redis);
    // Defining again on a shared client is harmless: same name, same script.
    redis.defineCommand('freewayLimitsDecide', { lua: DECIDE });
    redis.defineCommand('freewayLimitsAdjust', { lua: ADJUST, numberOfKeys: 1 });
  }

  private get scripts(): ScriptedClient {
    return this.redis as unknown as ScriptedClient;
  }

  private rateKey(key: string, rule: string, windowMs: number): string {
    return `${this.ns}rate:{${key}}:${rule}:${windowMs}`;
  }

  private slotKey(key: string): string {
    return `${this.ns}slot:{${key}}`;
  }

  async take(key: string, rules: readonly RateRule[], now: number): Promise<TakeResult> {
    const reply = await this.decide({ rateKey: key, rules }, null, now);
    if (reply[0] === 1) return { ok: true };
    if (reply[0] !== 2) throw new Error('unreachable: no endpoint was asked for');
    return refusal(reply, rules, now);
  }

  async acquireSlot(key: string, max: number, leaseMs: number, holder: string, now: number): Promise<boolean> {
    return (await this.acquire({ key, max, leaseMs, holder }, key, [], now)).ok;
  }

  async releaseSlot(key: string, holder: string): Promise<void> {
    await this.guard.run((r) => r.zrem(this.slotKey(key), holder));
  }

  async acquire(slot: SlotRequest | null, rateKey: string, rules: readonly RateRule[], now: number): Promise<AcquireResult> {
    return acquired(await this.decide(null, { slot, rateKey, rules }, now), rules, now);
  }

  async admit(key: string, rules: readonly RateRule[], endpoint: AcquireRequest, now: number): Promise<AdmitResult> {
    const reply = await this.decide({ rateKey: key, rules }, endpoint, now);
    if (reply[0] === 2) return refusal(reply, rules, now);
    return { ok: true, endpoint: acquired(reply, endpoint.rules, now) };
  }

  /** One DECIDE: the key's rules (if any), then the endpoint's request (if any); see redis-rate-scripts.ts. */
  private async decide(
    key: { rateKey: string; rules: readonly RateRule[] } | null,
    ep: AcquireRequest | null,
    now: number,
  ): Promise<Reply> {
    const keys: string[] = [];
    const ruleArgs: Array<string | number> = [];
    const add = (rateKey: string, rules: readonly RateRule[]) => {
      for (const r of rules) {
        keys.push(this.rateKey(rateKey, r.name, r.windowMs));
        ruleArgs.push(r.limit, r.windowMs, Math.max(0, Math.ceil(r.cost)), bucketMs(r.windowMs));
      }
    };
    if (key) add(key.rateKey, key.rules);
    const nKey = keys.length;
    const slot = ep?.slot ?? null;
    if (slot) keys.push(this.slotKey(slot.key));
    if (ep) add(ep.rateKey, ep.rules);
    if (keys.length === 0) return [1];
    const args = [Math.floor(now), nKey, slot ? '1' : '0', slot?.max ?? 0, Math.ceil(slot?.leaseMs ?? 0), slot?.holder ?? ''];
    return this.guard.run(() => this.scripts.freewayLimitsDecide(keys.length, ...keys, ...args, ...ruleArgs));
  }

  async adjust(key: string, ruleName: string, windowMs: number, delta: number, now: number, chargedAt: number = now): Promise<void> {
    const d = delta > 0 ? Math.ceil(delta) : Math.trunc(delta);
    if (d === 0) return;
    const k = this.rateKey(key, ruleName, windowMs);
    await this.guard.run(() =>
      this.scripts.freewayLimitsAdjust(k, d, Math.floor(now), windowMs, bucketMs(windowMs), Math.floor(chargedAt)),
    );
  }

  async close(): Promise<void> {}
}

/** The refusal a reply {2 or 3, ruleIndex, retryAfterMs, limit, remaining} names. */
function refusal(reply: Reply, rules: readonly RateRule[], now: number): RateRefusal {
  const [, index, retryAfterMs, limit, remaining] = reply as [number, number, number, number, number];
  return { ok: false, rule: rules[index - 1].name, retryAfterMs, limit, remaining, resetAt: Math.floor(now) + retryAfterMs };
}

/** The endpoint's answer in a reply: {1}, {0} or {3, ...} (a reply without the key's refusal). */
function acquired(reply: Reply, rules: readonly RateRule[], now: number): AcquireResult {
  if (reply[0] === 1) return { ok: true };
  if (reply[0] === 0) return { ok: false, reason: 'concurrency' };
  return { ...refusal(reply, rules, now), reason: 'rate' };
}
