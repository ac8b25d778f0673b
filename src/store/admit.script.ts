// The admission script run by RedisAdmissionStore; MemoryAdmissionStore mirrors it line by line.
export const ADMIT_SCRIPT = `
-- One request's admission, atomically, on Redis's own clock (CONTRACT §5, issue 3 + 4).
-- KEYS: 1 key state hash, 2 organization state hash, 3 sliding log (sorted set), 4 pending usage hash,
--       5 the usage key's distinct client IPs of the hour (HyperLogLog, named by the instance's clock)
-- ARGV: 1 max, 2 window ms (unless the key state carries its own), 3 log entry (unique),
--       4 check key state '1'|'0', 5 read tier '1'|'0', 6 usage field prefix (the key id) or '',
--       7 client IP or '', 8 how long the IP count is kept (ms)
-- Returns {outcome, tier, limit, remaining, reset ms, retry ms, window ms}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])

local tier = ''
if ARGV[5] == '1' then
  tier = redis.call('HGET', KEYS[2], 'tier')
  if not tier then return {'missing', '', max, 0, 0, 0, window} end
end
if ARGV[4] == '1' then
  local state = redis.call('HMGET', KEYS[1], 'rv', 'ex', 'lm', 'lw')
  -- no 'lm': a state from before keys carried their limit here; the seed fills it in
  if not state[1] or not state[3] then return {'missing', tier, max, 0, 0, 0, window} end
  local revokeAt = tonumber(state[1])
  local expiresAt = tonumber(state[2])
  if revokeAt > 0 and revokeAt <= now then return {'revoked', tier, max, 0, 0, 0, window} end
  if expiresAt > 0 and expiresAt <= now then return {'expired', tier, max, 0, 0, 0, window} end
  -- the key's own limit (lm 0: none)
  if tonumber(state[3]) > 0 then
    max = tonumber(state[3])
    window = tonumber(state[4])
  end
end

-- Sliding log: an entry counts while it is younger than the window; rejected requests add none.
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[3])
local outcome = 'limited'
if count < max then
  redis.call('ZADD', KEYS[3], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[3], window)
  count = count + 1
  outcome = 'ok'
end
local remaining = math.max(max - count, 0)
local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
local reset = tonumber(oldest[2]) + window
local retry = 0
if outcome == 'limited' then
  -- the entry whose leaving brings the count under max (the oldest, unless max was lowered)
  local index = count - max
  local entry = redis.call('ZRANGE', KEYS[3], index, index, 'WITHSCORES')
  retry = tonumber(entry[2]) + window - now
end

if ARGV[6] ~= '' then
  local minute = now - (now % 60000)
  local kind = 'r'
  if outcome == 'limited' then kind = 'l' end
  redis.call('HINCRBY', KEYS[4], ARGV[6] .. '|' .. minute .. '|' .. kind, 1)
  redis.call('HSET', KEYS[4], ARGV[6] .. '|u', now)
  -- a known IP changes nothing (PFADD 0): a single command for most requests
  if ARGV[7] ~= '' and redis.call('PFADD', KEYS[5], ARGV[7]) == 1 then
    redis.call('PEXPIRE', KEYS[5], ARGV[8])
  end
end
return {outcome, tier, max, remaining, reset, retry, window}
`;
