/**
 * RedisHealth's storage: its Lua scripts and the layout of its keys. Each script is one round trip
 * and runs atomically, so processes recording at once cannot interleave a read-modify-write of a
 * circuit. The state machine mirrors breaker.ts and the bucket layout mirrors window.ts; keep them
 * in step.
 *
 * Keys per endpoint (all share a `{endpoint}` hash tag, so they live on one Cluster slot):
 *   circuit hash: state (closed|open|half), fails (consecutive), until (ms the cooldown ends),
 *                 cool (current cooldown ms), since (bucket epoch of the last close), failAt
 *                 (ms of the newest failure)
 *   window hash:  per ring slot s: e<s> (bucket epoch), ok<s>, f<s>, tn<s>/t<s> (TTFT samples seen /
 *                 comma-separated reservoir), pn<s>/p<s> (the same for tokens per second)
 *   probe string: holder of the half-open probe, SET NX PX so only one process gets it
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from '../../infra/redis.ts';
import type { Bucket } from './summary.ts';

/** A script run by sha, loaded on first use or after a Redis restart (NOSCRIPT). */
export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error)?.message).includes('NOSCRIPT')) throw err;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Records outcomes, in the order given, as one atomic step: a process sends the successes of a
 * few tens of milliseconds together (see redis-health.ts) and a failure at once.
 * KEYS: circuit, window, probe.
 * ARGV: threshold, base cooldown, max cooldown, bucket ms, slots, short-window buckets, rate min
 *       samples, rate trip, reservoir size, ttl ms, then the outcomes: `;`-separated records of
 *       `now,kind,ttft,tps,rand1,rand2` — kind ok|fail|capacity; ttft and tps '' if none; rand1
 *       and rand2 uniform [0,1) drawn by the client (the reservoir needs randomness and script
 *       randomness is not reliable across Redis versions).
 * Returns {state, until} as the last outcome left them.
 */
export const RECORD = new LuaScript(`
local threshold = tonumber(ARGV[1])
local base = tonumber(ARGV[2])
local maxCool = tonumber(ARGV[3])
local bucketMs = tonumber(ARGV[4])
local slots = tonumber(ARGV[5])
local shortBuckets = tonumber(ARGV[6])
local rateMin = tonumber(ARGV[7])
local rateTrip = tonumber(ARGV[8])
local cap = tonumber(ARGV[9])
local ttl = ARGV[10]

local function sample(s, name, value, rand)
  if value == '' then return end
  local n = redis.call('HINCRBY', KEYS[2], name .. 'n' .. s, 1)
  local csv = redis.call('HGET', KEYS[2], name .. s) or ''
  if n <= cap then
    if csv == '' then csv = value else csv = csv .. ',' .. value end
  else
    local j = math.floor(tonumber(rand) * n)
    if j >= cap then return end
    local parts = {}
    for v in string.gmatch(csv, '[^,]+') do parts[#parts + 1] = v end
    parts[j + 1] = value
    csv = table.concat(parts, ',')
  end
  redis.call('HSET', KEYS[2], name .. s, csv)
end

local c = redis.call('HMGET', KEYS[1], 'state', 'fails', 'until', 'cool', 'since', 'failAt')
local state = c[1] or 'closed'
local fails = tonumber(c[2]) or 0
local untilMs = tonumber(c[3]) or 0
local cool = tonumber(c[4]) or base
local since = tonumber(c[5]) or -1
local failAt = tonumber(c[6]) or 0

for rec in string.gmatch(ARGV[11], '[^;]+') do
  local at, kind, ttft, tps, rand1, rand2 = string.match(rec, '^([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*)$')
  local now = tonumber(at)
  local epoch = math.floor(now / bucketMs)
  local s = tostring(epoch % slots)
  local current = tonumber(redis.call('HGET', KEYS[2], 'e' .. s))

  -- An outcome stamped older than the slot's bucket belongs to a window already gone.
  if current == nil or current <= epoch then
    if current ~= epoch then
      redis.call('HSET', KEYS[2], 'e' .. s, tostring(epoch), 'ok' .. s, 0, 'f' .. s, 0, 'tn' .. s, 0, 't' .. s, '', 'pn' .. s, 0, 'p' .. s, '')
    end
    if kind == 'ok' then redis.call('HINCRBY', KEYS[2], 'ok' .. s, 1)
    elseif kind == 'fail' then redis.call('HINCRBY', KEYS[2], 'f' .. s, 1) end
    sample(s, 't', ttft, rand1)
    sample(s, 'p', tps, rand2)
  end

  if kind == 'capacity' then
    if state == 'half' then
      state = 'open'
      untilMs = now + cool
      redis.call('DEL', KEYS[3])
    end
  elseif kind == 'ok' then
    -- A success that waited in a batch while another process recorded failures does not break
    -- their run: only one that happened after the last failure does.
    if now >= failAt then fails = 0 end
    if state == 'half' then
      state = 'closed'
      cool = base
      since = epoch
      redis.call('DEL', KEYS[3])
    end
  else
    fails = fails + 1
    if now > failAt then failAt = now end
    if state == 'half' then
      cool = math.min(cool * 2, maxCool)
      state = 'open'
      untilMs = now + cool
      redis.call('DEL', KEYS[3])
    elseif state == 'closed' then
      local trip = fails >= threshold
      if not trip then
        local ok, f = 0, 0
        for e = epoch, epoch - shortBuckets + 1, -1 do
          if e <= since then break end
          local sl = tostring(e % slots)
          local v = redis.call('HMGET', KEYS[2], 'e' .. sl, 'ok' .. sl, 'f' .. sl)
          if tonumber(v[1]) == e then
            ok = ok + tonumber(v[2])
            f = f + tonumber(v[3])
          end
        end
        trip = ok + f >= rateMin and ok / (ok + f) < rateTrip
      end
      if trip then
        cool = base
        state = 'open'
        untilMs = now + cool
      end
    end
  end
end

redis.call('HSET', KEYS[1], 'state', state, 'fails', fails, 'until', tostring(untilMs), 'cool', tostring(cool), 'since', tostring(since), 'failAt', tostring(failAt))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {state, tostring(untilMs)}
`);

/**
 * Claims the half-open probe: allowed once an open circuit's cooldown has passed, or when a
 * half-open circuit's probe holder vanished (its probe key expired).
 * KEYS: circuit, probe. ARGV: now, holder id, probe ttl ms. Returns {state, until, won (0|1)}.
 */
export const CLAIM = new LuaScript(`
local c = redis.call('HMGET', KEYS[1], 'state', 'until')
local state = c[1] or 'closed'
local untilMs = c[2] or '0'
if state == 'closed' then return {'closed', untilMs, 0} end
if state == 'open' and tonumber(ARGV[1]) < tonumber(untilMs) then return {'open', untilMs, 0} end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  redis.call('HSET', KEYS[1], 'state', 'half')
  return {'half', untilMs, 1}
end
return {'half', untilMs, 0}
`);

/**
 * Gives back a probe this process claimed but had no request to use it for, so another process
 * can probe instead of waiting for the claim to expire.
 * KEYS: circuit, probe. ARGV: holder id. Returns 1 when released.
 */
export const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
if redis.call('HGET', KEYS[1], 'state') == 'half' then redis.call('HSET', KEYS[1], 'state', 'open') end
return 1
`);

/** The window hash (HGETALL) as buckets, for `summarise`. */
export function parseWindow(hash: Record<string, string>, slots: number): Bucket[] {
  const out: Bucket[] = [];
  for (let s = 0; s < slots; s++) {
    const epoch = hash[`e${s}`];
    if (epoch === undefined) continue;
    out.push({
      epoch: Number(epoch),
      ok: Number(hash[`ok${s}`] ?? 0),
      fail: Number(hash[`f${s}`] ?? 0),
      ttft: parseSamples(hash[`t${s}`]),
      ttftSeen: Number(hash[`tn${s}`] ?? 0),
      tps: parseSamples(hash[`p${s}`]),
      tpsSeen: Number(hash[`pn${s}`] ?? 0),
    });
  }
  return out;
}

function parseSamples(csv: string | undefined): number[] {
  if (!csv) return [];
  return csv.split(',').map(Number).filter(Number.isFinite);
}
