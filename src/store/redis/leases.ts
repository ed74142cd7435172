/**
 * Leases in Redis, shared by every instance. The value is `<expiresAt> <holder>`: a lease is free once
 * `expiresAt <= now` (the caller's clock, as for every store), and the key also expires in Redis itself so
 * a dead holder leaves nothing behind. Taking or renewing is one atomic script.
 */
import type { Redis } from 'ioredis';

const TAKE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, ' ', 1, true)
  local expires = tonumber(string.sub(cur, 1, sep - 1))
  local holder = string.sub(cur, sep + 1)
  if holder ~= ARGV[1] and expires > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], (tonumber(ARGV[3]) + tonumber(ARGV[2])) .. ' ' .. ARGV[1], 'PX', ARGV[2])
return 1
`;

export function createRedisLeases(
  redis: Redis,
  prefix: string,
): (name: string, holder: string, ttlMs: number, now: number) => Promise<boolean> {
  return async (name, holder, ttlMs, now) =>
    (await redis.eval(TAKE, 1, `${prefix}:lease:${name}`, holder, String(Math.max(1, Math.round(ttlMs))), String(Math.round(now)))) === 1;
}
