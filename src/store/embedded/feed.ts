/**
 * The live log of one process: the last `replay` entries of each workspace, in memory. The embedded store
 * has one process, so nothing needs to cross a network; ids carry this boot's random tag, so a client that
 * resumes with an id from before a restart gets a snapshot rather than a silently incomplete replay.
 */
import { randomBytes } from 'node:crypto';
import type { FeedEntry, LiveFeed } from '../types.ts';

interface Log {
  entries: FeedEntry[];
  /** Highest sequence number dropped from this workspace's log (0: nothing dropped yet). */
  droppedUpTo: number;
}

export function createMemoryFeed(replay: number): LiveFeed {
  const boot = randomBytes(4).toString('hex');
  let seq = 0;
  const logs = new Map<string, Log>();
  const listeners = new Set<(entry: FeedEntry) => void>();

  const seqOf = (id: string): number | undefined => {
    const [tag, n] = id.split('-');
    if (tag !== boot || n === undefined || !/^\d+$/.test(n)) return undefined;
    return Number(n);
  };

  return {
    async publish(workspaceId, entries) {
      let log = logs.get(workspaceId);
      if (!log) logs.set(workspaceId, (log = { entries: [], droppedUpTo: 0 }));
      for (const { event, data } of entries) {
        const entry: FeedEntry = { id: `${boot}-${++seq}`, workspaceId, event, data };
        log.entries.push(entry);
        if (log.entries.length > replay) {
          const dropped = log.entries.splice(0, log.entries.length - replay);
          log.droppedUpTo = seqOf(dropped.at(-1)?.id ?? '') ?? log.droppedUpTo;
        }
        for (const listener of listeners) listener(entry);
      }
    },
    async since(workspaceId, afterId) {
      const after = seqOf(afterId);
      if (after === undefined || after > seq) return undefined;
      const log = logs.get(workspaceId);
      if (!log) return [];
      if (after < log.droppedUpTo) return undefined;
      return log.entries.filter((e) => (seqOf(e.id) ?? 0) > after);
    },
    async head(workspaceId) {
      return logs.get(workspaceId)?.entries.at(-1)?.id ?? `${boot}-0`;
    },
    compare(a, b) {
      return (seqOf(a) ?? -1) - (seqOf(b) ?? -1);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
