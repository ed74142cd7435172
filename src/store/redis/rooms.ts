/**
 * Room ownership in Redis (see RoomRegistry in ../types.ts), shared by every instance:
 *   {P}:room:<project>:<name>    hash workspaceId, roomSid, since, ended   (kept DAY_S after its last bind)
 *   {P}:claims:<project>:<name>  set of workspaces holding an unverified call of the name (same lifetime)
 * Untagged keys: a room name is not tied to one workspace. The project (an API key) never holds ':' in
 * practice, and a name that did would only ever collide with itself. Binding compares and sets in one
 * script, so two instances binding rooms of one name at once keep the newer room.
 */
import type { Redis } from 'ioredis';
import type { RoomRegistry } from '../types.ts';

const DAY_S = 86_400;

/** 1 when the record is now this binding and live; 0 otherwise. */
const BIND = `
local sid = redis.call('HGET', KEYS[1], 'roomSid')
if sid == ARGV[2] then
  if redis.call('HGET', KEYS[1], 'ended') == '1' then return 0 end
  if redis.call('HGET', KEYS[1], 'workspaceId') ~= ARGV[1] then return 0 end
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return 1
end
local since = tonumber(redis.call('HGET', KEYS[1], 'since') or '-1')
if since > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'workspaceId', ARGV[1], 'roomSid', ARGV[2], 'since', ARGV[3], 'ended', '0')
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
`;

const RELEASE = `
if redis.call('HGET', KEYS[1], 'roomSid') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'ended', '1')
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

export function createRedisRooms(redis: Redis, prefix: string): RoomRegistry {
  const roomKey = (project: string, name: string) => `${prefix}:room:${project}:${name}`;
  const claimsKey = (project: string, name: string) => `${prefix}:claims:${project}:${name}`;
  return {
    async bind(project, roomName, owner) {
      const key = roomKey(project, roomName);
      const since = String(Math.round(owner.since));
      return (await redis.eval(BIND, 1, key, owner.workspaceId, owner.roomSid, since, String(DAY_S))) === 1;
    },
    async release(project, roomName, roomSid) {
      await redis.eval(RELEASE, 1, roomKey(project, roomName), roomSid, String(DAY_S));
    },
    async owner(project, roomName) {
      const h = await redis.hgetall(roomKey(project, roomName));
      if (!h.workspaceId || h.roomSid === undefined) return undefined;
      return { workspaceId: h.workspaceId, roomSid: h.roomSid, since: Number(h.since ?? 0), ended: h.ended === '1' };
    },
    async claim(project, roomName, workspaceId) {
      const key = claimsKey(project, roomName);
      await redis.multi().sadd(key, workspaceId).expire(key, DAY_S).exec();
    },
    async claimants(project, roomName) {
      return redis.smembers(claimsKey(project, roomName));
    },
    async unclaim(project, roomName, workspaceId) {
      await redis.srem(claimsKey(project, roomName), workspaceId);
    },
  };
}
