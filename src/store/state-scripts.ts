// The scripts RedisAdmissionStore runs besides the admission (admit.script.ts). Each touches keys
// of one hash slot only, so each runs on Redis Cluster too.

/** Writes a state that is absent; of one that exists, only the fields it lacks (a newer write wins). */
export const SEED_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
else
  for i = 2, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1`;

/**
 * Overwrites a state. ARGV: 1 time to live if the state existed, 2 if it did not, then the fields.
 * A tier written to every bucket of a cluster keeps the buckets no request has used only as long
 * as a seed that read PostgreSQL before the change could still arrive (it must not win), not a day.
 */
export const PUT_SCRIPT = `
local ttl = ARGV[2]
if redis.call('EXISTS', KEYS[1]) == 1 then ttl = ARGV[1] end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ttl)
return 1`;

/**
 * Hands the caller the usage batches of one bucket to apply: abandoned ones (their claim ran out)
 * first, at most ARGV[3] of them, then the pending hash, renamed into a new batch.
 * KEYS: 1 pending hash, 2 batches (sorted set: id → claim deadline, ms), 3 the new batch's key.
 * ARGV: 1 claim ms, 2 the new batch's id, 3 abandoned batches to take at most.
 * Returns the ids claimed (the new one last, when there was pending usage); empty: nothing to do.
 */
export const CLAIM_USAGE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = now + tonumber(ARGV[1])
local claimed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(claimed) do redis.call('ZADD', KEYS[2], deadline, id) end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[3])
  redis.call('ZADD', KEYS[2], deadline, ARGV[2])
  table.insert(claimed, ARGV[2])
end
return claimed`;
