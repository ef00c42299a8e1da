/**
 * The RateStore shared by every Freeway process on one Redis. Each decision is one Lua script
 * (EVALSHA through ioredis `defineCommand`), so it is atomic and one round trip. The arithmetic
 * mirrors memory-rate-store.ts; both pass one behavioural suite.
 *
 * Layout, under the client's keyPrefix (`freeway:`) and this store's namespace (`limits:`):
 * - `<ns>rate:{<key>}:<rule>:<windowMs>`: hash, bucket index → units charged; expires a window
 *   and a bucket after its last charge.
 * - `<ns>slot:{<key>}`: sorted set, holder → lease expiry (ms epoch); expires with its last lease.
 * The `{<key>}` hash tag keeps a key's semaphore and rules in one Redis Cluster slot.
 *
 * Every call goes through the client's outage guard: while Redis is down it throws
 * RedisUnavailableError at once instead of asking (outage-fallback-store.ts decides what then).
 */
import { guardOf, type RedisClient, type RedisGuard } from '../infra/redis.ts';
import { bucketMs, type AcquireResult, type RateRule, type RateStore, type SlotRequest, type TakeResult } from './types.ts';

/**
 * KEYS: [slot key if ARGV[2] == '1'], then one key per rule.
 * ARGV: now, hasSlot, max, leaseMs, holder, then per rule: limit, windowMs, cost, bucketMs.
 * Returns {1} admitted, {0} no place in the semaphore, {2, ruleIndex (1-based), retryAfterMs,
 * limit, remaining} refused by a rule.
 */
const ACQUIRE = `
local now = tonumber(ARGV[1])
local hasSlot = ARGV[2] == '1'
local first = 1
if hasSlot then
  first = 2
  local slotKey = KEYS[1]
  redis.call('ZREMRANGEBYSCORE', slotKey, '-inf', now)
  if not redis.call('ZSCORE', slotKey, ARGV[5]) then
    if redis.call('ZCARD', slotKey) >= tonumber(ARGV[3]) then return {0} end
  end
end
local worst = nil
local costs = {}
for i = first, #KEYS do
  local key = KEYS[i]
  local a = 6 + (i - first) * 4
  local limit = tonumber(ARGV[a])
  local window = tonumber(ARGV[a + 1])
  local cost = tonumber(ARGV[a + 2])
  local g = tonumber(ARGV[a + 3])
  costs[i] = cost
  local minB = math.floor((now - window) / g)
  local flat = redis.call('HGETALL', key)
  local used = 0
  local live = {}
  for j = 1, #flat, 2 do
    local b = tonumber(flat[j])
    local n = tonumber(flat[j + 1])
    if b < minB then
      redis.call('HDEL', key, flat[j])
    else
      used = used + n
      live[#live + 1] = { b, n }
    end
  end
  if used + cost > limit and used > 0 then
    table.sort(live, function(x, y) return x[1] < y[1] end)
    local clearAt
    if cost > limit then
      clearAt = (live[#live][1] + 1) * g + window
    else
      local excess = used + cost - limit
      local freed = 0
      for _, e in ipairs(live) do
        freed = freed + e[2]
        clearAt = (e[1] + 1) * g + window
        if freed >= excess then break end
      end
    end
    local retry = math.ceil(clearAt - now)
    if retry < 1 then retry = 1 end
    if worst == nil or retry > worst[3] then
      local remaining = limit - used
      if remaining < 0 then remaining = 0 end
      worst = { 2, i - first + 1, retry, limit, remaining }
    end
  end
end
if worst then return worst end
for i = first, #KEYS do
  if costs[i] > 0 then
    local a = 6 + (i - first) * 4
    local window = tonumber(ARGV[a + 1])
    local g = tonumber(ARGV[a + 3])
    redis.call('HINCRBY', KEYS[i], string.format('%d', math.floor(now / g)), costs[i])
    redis.call('PEXPIRE', KEYS[i], window + g)
  end
end
if hasSlot then
  local leaseMs = tonumber(ARGV[4])
  redis.call('ZADD', KEYS[1], now + leaseMs, ARGV[5])
  if redis.call('PTTL', KEYS[1]) < leaseMs then redis.call('PEXPIRE', KEYS[1], leaseMs) end
end
return {1}
`;

/**
 * KEYS: rule key. ARGV: delta, now, windowMs, bucketMs, chargedAt.
 * A positive delta is charged at now; a negative one refunded from chargedAt's bucket if still live.
 */
const ADJUST = `
local delta = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local g = tonumber(ARGV[4])
if delta > 0 then
  redis.call('HINCRBY', KEYS[1], string.format('%d', math.floor(now / g)), delta)
  if redis.call('PTTL', KEYS[1]) < window + g then redis.call('PEXPIRE', KEYS[1], window + g) end
  return 1
end
local b = math.floor(tonumber(ARGV[5]) / g)
if b < math.floor((now - window) / g) then return 0 end
local field = string.format('%d', b)
local left = tonumber(redis.call('HGET', KEYS[1], field) or '0') + delta
if left > 0 then
  redis.call('HSET', KEYS[1], field, left)
else
  redis.call('HDEL', KEYS[1], field)
end
return 1
`;

type Reply = [number, number?, number?, number?, number?];

interface ScriptedClient {
  freewayLimitsAcquire(numKeys: number, ...args: Array<string | number>): Promise<Reply>;
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
    redis.defineCommand('freewayLimitsAcquire', { lua: ACQUIRE });
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
    const r = await this.acquire(null, key, rules, now);
    if (r.ok) return r;
    if (r.reason !== 'rate') throw new Error('unreachable: no semaphore was asked for');
    const { reason: _reason, ...refusal } = r;
    return refusal;
  }

  async acquireSlot(key: string, max: number, leaseMs: number, holder: string, now: number): Promise<boolean> {
    return (await this.acquire({ key, max, leaseMs, holder }, key, [], now)).ok;
  }

  async releaseSlot(key: string, holder: string): Promise<void> {
    await this.guard.run((r) => r.zrem(this.slotKey(key), holder));
  }

  async acquire(slot: SlotRequest | null, rateKey: string, rules: readonly RateRule[], now: number): Promise<AcquireResult> {
    const keys: string[] = [];
    const args: Array<string | number> = [
      Math.floor(now),
      slot ? '1' : '0',
      slot?.max ?? 0,
      Math.ceil(slot?.leaseMs ?? 0),
      slot?.holder ?? '',
    ];
    if (slot) keys.push(this.slotKey(slot.key));
    for (const r of rules) {
      keys.push(this.rateKey(rateKey, r.name, r.windowMs));
      args.push(r.limit, r.windowMs, Math.max(0, Math.ceil(r.cost)), bucketMs(r.windowMs));
    }
    if (keys.length === 0) return { ok: true };
    const reply = await this.guard.run(() => this.scripts.freewayLimitsAcquire(keys.length, ...keys, ...args));
    if (reply[0] === 1) return { ok: true };
    if (reply[0] === 0) return { ok: false, reason: 'concurrency' };
    const [, index, retryAfterMs, limit, remaining] = reply as [number, number, number, number, number];
    const t = Math.floor(now);
    return { ok: false, reason: 'rate', rule: rules[index - 1].name, retryAfterMs, limit, remaining, resetAt: t + retryAfterMs };
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
