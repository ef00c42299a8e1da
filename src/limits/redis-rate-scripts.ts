/**
 * The Lua scripts of redis-rate-store.ts. Each runs atomically in Redis and costs one round trip.
 * Their arithmetic mirrors memory-rate-store.ts; both pass one behavioural suite.
 */

/**
 * Every decision: the key's rules (a `take`), then, only if they admit, the endpoint's place in a
 * semaphore and its rules (an `acquire`). Each group is all or nothing; `take` and `acquire` are
 * this script with the other group empty, `admit` is both in one step.
 *
 * KEYS: the key's rule keys (ARGV[2] of them), then the semaphore's key if ARGV[3] == '1', then
 * the endpoint's rule keys.
 * ARGV: now, number of the key's rules, hasSlot, max, leaseMs, holder, then per rule (the key's,
 * then the endpoint's): limit, windowMs, cost, bucketMs.
 * Returns {1} all admitted; {2, ruleIndex (1-based among the key's), retryAfterMs, limit,
 * remaining}: refused by a rule of the key, nothing charged; {0}: no place in the semaphore, or
 * {3, ruleIndex (among the endpoint's), retryAfterMs, limit, remaining}: refused by a rule of the
 * endpoint — the endpoint charged nothing, the key's rules (if any) stay charged.
 */
export const DECIDE = `
local now = tonumber(ARGV[1])
local nKey = tonumber(ARGV[2])
local hasSlot = ARGV[3] == '1'

-- The refusal of the rules KEYS[k1..k2] (arguments from ARGV[a1] on), or nil.
local function check(k1, k2, a1)
  local worst = nil
  for i = k1, k2 do
    local key = KEYS[i]
    local a = a1 + (i - k1) * 4
    local limit = tonumber(ARGV[a])
    local window = tonumber(ARGV[a + 1])
    local cost = tonumber(ARGV[a + 2])
    local g = tonumber(ARGV[a + 3])
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
      if worst == nil or retry > worst[2] then
        local remaining = limit - used
        if remaining < 0 then remaining = 0 end
        worst = { i - k1 + 1, retry, limit, remaining }
      end
    end
  end
  return worst
end

-- Charges the rules KEYS[k1..k2] (arguments from ARGV[a1] on) their cost in the current bucket.
local function charge(k1, k2, a1)
  for i = k1, k2 do
    local a = a1 + (i - k1) * 4
    local cost = tonumber(ARGV[a + 2])
    if cost > 0 then
      local window = tonumber(ARGV[a + 1])
      local g = tonumber(ARGV[a + 3])
      redis.call('HINCRBY', KEYS[i], string.format('%d', math.floor(now / g)), cost)
      redis.call('PEXPIRE', KEYS[i], window + g)
    end
  end
end

if nKey > 0 then
  local w = check(1, nKey, 7)
  if w then return { 2, w[1], w[2], w[3], w[4] } end
  charge(1, nKey, 7)
end
local first = nKey + 1
local a1 = 7 + nKey * 4
local slotKey = nil
if hasSlot then
  slotKey = KEYS[first]
  first = first + 1
  redis.call('ZREMRANGEBYSCORE', slotKey, '-inf', now)
  if not redis.call('ZSCORE', slotKey, ARGV[6]) then
    if redis.call('ZCARD', slotKey) >= tonumber(ARGV[4]) then return {0} end
  end
end
if first <= #KEYS then
  local w = check(first, #KEYS, a1)
  if w then return { 3, w[1], w[2], w[3], w[4] } end
  charge(first, #KEYS, a1)
end
if slotKey then
  local leaseMs = tonumber(ARGV[5])
  redis.call('ZADD', slotKey, now + leaseMs, ARGV[6])
  if redis.call('PTTL', slotKey) < leaseMs then redis.call('PEXPIRE', slotKey, leaseMs) end
end
return {1}
`;

/**
 * KEYS: rule key. ARGV: delta, now, windowMs, bucketMs, chargedAt.
 * A positive delta is charged at now; a negative one refunded from chargedAt's bucket if still live.
 */
export const ADJUST = `
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
