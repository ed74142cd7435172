/**
 * The list's read path on Redis. A wallboard in every workspace polls the list all day, while a
 * workspace's calls change a few times a second at most, so:
 *  - every commit also writes the call's list view (`{P}:{ws}:view:<id>`, a few hundred bytes) beside the
 *    call itself (kilobytes: it carries up to 50 live turns), and listing reads the views, never the calls;
 *  - every commit that changes a call also sets the workspace's list version (`{P}:{ws}:listver`) to a new
 *    value, and each instance keeps the list it last read with the version it read first: while the version
 *    is unchanged a list costs one GET of it. (Read before the list, so a commit that lands in between only
 *    makes the next request read again.) A list is also read again after `MAX_AGE_MS` whatever the version
 *    says, which bounds what a writer that does not set it (an older instance mid-upgrade) can hide;
 *  - views already parsed are kept by the exact string read back, so a re-read parses only what changed.
 */
import { randomBytes } from 'node:crypto';
import type { ListView } from '../../domain/view.ts';

/** Key suffix of a workspace's list version. */
export const LIST_VERSION = 'listver';
const MAX_AGE_MS = 2_000;

const instance = randomBytes(6).toString('base64url');
let sequence = 0;

/** A value no other commit, on any instance, sets. */
export function newListVersion(): string {
  return `${instance}.${(++sequence).toString(36)}`;
}

function byStart(a: ListView, b: ListView): number {
  return a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

interface WorkspaceViews {
  byId: Map<string, { raw: string; view: ListView }>;
  version: string | null;
  readAt: number;
  sorted: readonly ListView[];
}

export class ListViewCache {
  private readonly workspaces = new Map<string, WorkspaceViews>();

  /** The list read last, if it is still current: `version` (just read) is the one it was read under. */
  current(ws: string, version: string | null, now: number): readonly ListView[] | undefined {
    const cache = this.workspaces.get(ws);
    if (!cache || version === null || cache.version !== version || now - cache.readAt >= MAX_AGE_MS) return undefined;
    return cache.sorted;
  }

  /**
   * The views of `ids` (the active calls, in any order) from their stored JSON (`raws[i]` for `ids[i]`, null
   * when missing); `missing` gets the indexes of those with no stored view, for the caller to make.
   */
  parse(ws: string, ids: readonly string[], raws: readonly (string | null)[], missing: number[]): ListView[] {
    const previous = this.workspaces.get(ws)?.byId;
    const byId = new Map<string, { raw: string; view: ListView }>();
    const views: ListView[] = [];
    for (let i = 0; i < ids.length; i++) {
      const raw = raws[i];
      const id = ids[i] as string;
      if (raw === null || raw === undefined) {
        missing.push(i);
        continue;
      }
      const hit = previous?.get(id);
      const entry = hit?.raw === raw ? hit : { raw, view: JSON.parse(raw) as ListView };
      byId.set(id, entry);
      views.push(entry.view);
    }
    // Only the calls active now are kept: the cache is bounded by the workspace's active calls.
    this.workspaces.set(ws, { byId, version: null, readAt: 0, sorted: [] });
    return views;
  }

  /** Sorts `views` into list order and keeps them as the list of `version`, read at `readAt`. */
  store(ws: string, version: string | null, readAt: number, views: ListView[]): readonly ListView[] {
    const sorted = views.sort(byStart);
    const cache = this.workspaces.get(ws);
    if (cache) Object.assign(cache, { version, readAt, sorted });
    return sorted;
  }
}
