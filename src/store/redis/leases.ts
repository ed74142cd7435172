/**
 * Leases in Redis, shared by every instance: the key holds the holder's name and expires by itself, so a
 * holder that dies frees the lease after `ttlMs`. Taking or renewing is one atomic script.
 */
import type { Redis } from 'ioredis';

const TAKE = `
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

export function createRedisLeases(redis: Redis, prefix: string): (name: string, holder: string, ttlMs: number, now: number) => Promise<boolean> {
  return async (name, holder, ttlMs) => (await redis.eval(TAKE, 1, `${prefix}:lease:${name}`, holder, String(Math.max(1, Math.round(ttlMs))))) === 1;
}
