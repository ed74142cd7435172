/**
 * Room ownership in Redis (see RoomRegistry in ../types.ts), shared by every instance:
 *   {P}:room:<name>     hash workspaceId, roomSid, project, since, ended   (kept DAY_S after its last change)
 *   {P}:claims:<name>   set of workspaces holding an unverified call of the name (same lifetime)
 * Untagged keys: a room name is not tied to one workspace. Binding compares and sets in one script, so two
 * instances binding rooms of one name at once keep the newer room.
 */
import type { Redis } from 'ioredis';
import type { RoomRegistry } from '../types.ts';

const DAY_S = 86_400;

const BIND = `
local sid = redis.call('HGET', KEYS[1], 'roomSid')
if sid == ARGV[2] then return 0 end
local since = tonumber(redis.call('HGET', KEYS[1], 'since') or '-1')
if since > tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], 'workspaceId', ARGV[1], 'roomSid', ARGV[2], 'project', ARGV[3], 'since', ARGV[4], 'ended', '0')
redis.call('EXPIRE', KEYS[1], ARGV[5])
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
  const roomKey = (name: string) => `${prefix}:room:${name}`;
  const claimsKey = (name: string) => `${prefix}:claims:${name}`;
  return {
    async bind(roomName, owner) {
      const changed = await redis.eval(
        BIND,
        1,
        roomKey(roomName),
        owner.workspaceId,
        owner.roomSid,
        owner.project,
        String(Math.round(owner.since)),
        String(DAY_S),
      );
      return changed === 1;
    },
    async release(roomName, roomSid) {
      await redis.eval(RELEASE, 1, roomKey(roomName), roomSid, String(DAY_S));
    },
    async owner(roomName) {
      const h = await redis.hgetall(roomKey(roomName));
      if (!h.workspaceId || h.roomSid === undefined) return undefined;
      return {
        workspaceId: h.workspaceId,
        roomSid: h.roomSid,
        project: h.project ?? '',
        since: Number(h.since ?? 0),
        ended: h.ended === '1',
      };
    },
    async claim(roomName, workspaceId) {
      await redis.multi().sadd(claimsKey(roomName), workspaceId).expire(claimsKey(roomName), DAY_S).exec();
    },
    async claimants(roomName) {
      return redis.smembers(claimsKey(roomName));
    },
    async unclaim(roomName, workspaceId) {
      await redis.srem(claimsKey(roomName), workspaceId);
    },
  };
}
