/**
 * Optimistic concurrency for Redis without WATCH (which would tie a connection to one transaction): read
 * freely, fold in TypeScript, then commit with one Lua script that first checks every value the fold read
 * is unchanged and every event id is still unseen, and only then writes. Any check failing means another
 * instance got there first: nothing is written and the caller re-reads and retries. Lua scripts run
 * atomically, and every key of a batch shares the workspace's hash tag, so this works on Redis Cluster.
 *
 * Cost matters here (it is every ingest): the script is sent once and then called by its SHA-1, large values
 * travel as their own arguments rather than inside the JSON of checks and ops (no escaping, no cjson decoding
 * of kilobytes), and a large value read before is checked by its SHA-1 rather than sent back whole.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type Check =
  | { k: number; t: 'get'; v: string | null }
  | { k: number; t: 'hget'; f: string; v: string | null }
  | { k: number; t: 'absent' }
  /** The key still holds the value read (compared by SHA-1), or is still absent when it was. */
  | { k: number; t: 'same'; v: string | null };

export type Op =
  | { k: number; op: 'set'; v: string; ex?: number }
  | { k: number; op: 'hset'; f: string; v: string }
  | { k: number; op: 'hdel_if'; f: string; v: string }
  | { k: number; op: 'zadd'; s: number; m: string }
  | { k: number; op: 'zrem_unless_active'; m: string; active: number }
  | { k: number; op: 'rpush_trim'; v: string; cap: number }
  | { k: number; op: 'sadd'; m: string }
  | { k: number; op: 'expire'; ex: number }
  | { k: number; op: 'del' }
  /**
   * Takes the next number of sequence `k` and scores every id of `ids` with it in the sorted set `log`, which
   * keeps the last `span` numbers; a sequence starting again (number 1) sets `epoch` to `token` (see ./list-views.ts).
   */
  | { k: number; op: 'listlog'; log: number; epoch: number; token: string; ids: string[]; span: number }
  /**
   * Appends `v` to a stream of at most `max` entries (the webhook relay's, see ./calls.ts); when it is full,
   * the oldest entry goes and the counter `dropped` counts it.
   */
  | { k: number; op: 'xadd'; v: string; max: number; dropped: number }
  /** Appends a frame to a live feed stream and publishes it with its id (see ../redis/feed.ts for the format). */
  | { k: number; op: 'feed'; e: string; d: string; max: number; ch: string; ws: string };

const SCRIPT = `
local p = cjson.decode(ARGV[1])
for _, c in ipairs(p.checks) do
  local key = KEYS[c.k]
  if c.t == 'get' then
    local v = redis.call('GET', key)
    if v == false then v = nil end
    if v ~= c.v then return 0 end
  elseif c.t == 'hget' then
    local v = redis.call('HGET', key, c.f)
    if v == false then v = nil end
    if v ~= c.v then return 0 end
  elseif c.t == 'absent' then
    if redis.call('EXISTS', key) == 1 then return 0 end
  elseif c.t == 'same' then
    local v = redis.call('GET', key)
    if v == false then v = nil else v = redis.sha1hex(v) end
    if v ~= c.h then return 0 end
  end
end
for _, o in ipairs(p.ops) do
  local key = KEYS[o.k]
  if o.a then o.v = ARGV[o.a] end
  if o.op == 'set' then
    if o.ex then redis.call('SET', key, o.v, 'EX', o.ex) else redis.call('SET', key, o.v) end
  elseif o.op == 'hset' then redis.call('HSET', key, o.f, o.v)
  elseif o.op == 'hdel_if' then
    if redis.call('HGET', key, o.f) == o.v then redis.call('HDEL', key, o.f) end
  elseif o.op == 'zadd' then redis.call('ZADD', key, o.s, o.m)
  elseif o.op == 'zrem_unless_active' then
    if redis.call('HEXISTS', KEYS[o.active], o.m) == 0 then redis.call('ZREM', key, o.m) end
  elseif o.op == 'rpush_trim' then
    redis.call('RPUSH', key, o.v)
    redis.call('LTRIM', key, -o.cap, -1)
  elseif o.op == 'sadd' then redis.call('SADD', key, o.m)
  elseif o.op == 'expire' then redis.call('EXPIRE', key, o.ex)
  elseif o.op == 'del' then redis.call('DEL', key)
  elseif o.op == 'listlog' then
    local seq = redis.call('INCR', key)
    if seq == 1 then redis.call('SET', KEYS[o.epoch], o.token) end
    for _, id in ipairs(o.ids) do redis.call('ZADD', KEYS[o.log], seq, id) end
    redis.call('ZREMRANGEBYSCORE', KEYS[o.log], '-inf', seq - o.span)
  elseif o.op == 'xadd' then
    if redis.call('XLEN', key) >= o.max then redis.call('INCR', KEYS[o.dropped]) end
    redis.call('XADD', key, 'MAXLEN', o.max, '*', 'b', o.v)
  elseif o.op == 'feed' then
    local id = redis.call('XADD', key, 'MAXLEN', '~', o.max, '*', 'e', o.e, 'd', o.d)
    redis.call('PUBLISH', o.ch, o.ws .. '\\n' .. id .. '\\n' .. o.e .. '\\n' .. o.d)
    redis.call('EXPIRE', key, 86400)
  end
end
return 1
`;

/** Collects keys (by index, as Lua wants them in KEYS), checks and writes for one guarded commit. */
export class GuardedWrite {
  private readonly keys: string[] = [];
  private readonly index = new Map<string, number>();
  readonly checks: Check[] = [];
  readonly ops: Op[] = [];

  key(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      this.keys.push(name);
      i = this.keys.length;
      this.index.set(name, i);
    }
    return i;
  }

  /** True when committed; false when a check failed (someone else wrote first). */
  async commit(redis: Redis): Promise<boolean> {
    // Lua's cjson turns JSON null into a sentinel, not nil: leave "expected absent" values out instead.
    const checks = this.checks.map((c) => {
      if (c.t === 'same') return { k: c.k, t: c.t, ...(c.v === null ? {} : { h: sha1(c.v) }) };
      return 'v' in c && c.v === null ? { ...c, v: undefined } : c;
    });
    const args: string[] = [];
    const ops = this.ops.map((o) => {
      if (!('v' in o) || o.v.length < LARGE) return o;
      args.push(o.v);
      // ARGV[1] is the JSON itself, so values start at ARGV[2].
      return { ...o, v: undefined, a: args.length + 1 };
    });
    const argv = [JSON.stringify({ checks, ops }), ...args];
    const result = await evalScript(redis, SCRIPT_SHA, SCRIPT, this.keys, argv);
    return result === 1;
  }
}

/** Values at least this long are passed as arguments of their own. */
const LARGE = 256;
const SCRIPT_SHA = sha1(SCRIPT);

export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** Runs `script` by its SHA-1 `sha`, sending it whole only when the server does not know it yet. */
export async function evalScript(
  redis: Redis,
  sha: string,
  script: string,
  keys: readonly string[],
  argv: readonly string[],
): Promise<unknown> {
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...argv);
  } catch (err) {
    // First use on this server (or after SCRIPT FLUSH / a restart): send the script itself, which caches it.
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return redis.eval(script, keys.length, ...keys, ...argv);
    throw err;
  }
}
