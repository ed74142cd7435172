/**
 * The active-calls list: filters, keyset paging and the response body.
 *
 * Why it is built by hand: a wallboard in every workspace polls this all day, `duration` changes every
 * second and `timestamp` on every request, yet the rest of an item changes only when its call does. Each
 * item is serialised once per change of its call (`ListView`, from the store), what a query selects is
 * kept for as long as the list is unchanged, and a response is those bytes with the current durations
 * (./list-body.ts): no object is built or serialised per request.
 *
 * Paging is by key, not by offset: a cursor holds the (start time, id) of the last item sent, and the next
 * page starts strictly after it in the list's order (oldest first). A call that stays active is therefore
 * sent exactly once however many calls start or end meanwhile; calls that start later than the cursor
 * appear on a later page, calls that start earlier (rare: a late webhook) are not revisited. A cursor
 * also carries a digest of the filters it was made under, so it cannot silently be reused with others.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CallType, Sentiment } from '../domain/call.ts';
import type { ListView } from '../domain/view.ts';
import { AppError } from '../errors.ts';
import { renderBody, type Template } from './list-body.ts';

export const MAX_PAGE = 1000;

export interface ListFilters {
  type?: CallType;
  /** Exact match on `aiAgentName`. */
  agent?: string;
  sentiment?: Sentiment;
  transferRequested?: boolean;
}

export interface ListQuery extends ListFilters {
  /** Page size, 1..MAX_PAGE; with `cursor`, defaults to the page size the cursor was made with. */
  limit?: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string;
}

const CURSOR_FIELD = 'querystring.cursor';

const cursorSchema = z.object({
  s: z.number().int(),
  i: z.string().min(1).max(64),
  f: z.string().length(16),
  l: z.number().int().min(1).max(MAX_PAGE),
});
type Cursor = z.infer<typeof cursorSchema>;

/** A short digest of the filters: the same filters, in any order of the query string, give the same digest. */
function filterDigest(f: ListFilters): string {
  const canonical = JSON.stringify([f.type ?? null, f.agent ?? null, f.sentiment ?? null, f.transferRequested ?? null]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(text: string, filters: ListFilters): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const cursor = cursorSchema.safeParse(parsed);
  if (!cursor.success) throw new AppError('invalid_request', 'querystring.cursor: not a cursor of this list', { field: CURSOR_FIELD });
  if (cursor.data.f !== filterDigest(filters)) {
    throw new AppError('invalid_request', 'querystring.cursor: the cursor was made with other filters; repeat them or start over', {
      field: CURSOR_FIELD,
    });
  }
  return cursor.data;
}

function matches(v: ListView, f: ListFilters): boolean {
  return (
    (f.type === undefined || v.type === f.type) &&
    (f.agent === undefined || v.aiAgentName === f.agent) &&
    (f.sentiment === undefined || v.sentiment === f.sentiment) &&
    (f.transferRequested === undefined || v.transferRequested === f.transferRequested)
  );
}

/** Index of the first view strictly after (startedAt, id); `views` is in list order. */
function after(views: readonly ListView[], startedAt: number, id: string): number {
  let lo = 0;
  let hi = views.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = views[mid] as ListView;
    if (v.startedAt < startedAt || (v.startedAt === startedAt && v.id <= id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What one query selects from one list: its items, how many match, the next cursor, and its bytes template. */
interface Page {
  views: readonly ListView[];
  count: number;
  next: string | null;
  template?: Template;
}

/**
 * The pages asked of each list (a store hands back the same array until a call of the workspace changes),
 * so a poll that finds nothing changed neither filters nor serialises anything again.
 */
const pages = new WeakMap<readonly ListView[], Map<string, Page>>();
const PAGES_PER_LIST = 16;

function select(views: readonly ListView[], filters: ListFilters, cursor: Cursor | undefined, limit: number | undefined): Page {
  const filtered = Object.keys(filters).length === 0 ? views : views.filter((v) => matches(v, filters));
  if (limit === undefined) return { views: filtered, count: filtered.length, next: null };
  const from = cursor ? after(filtered, cursor.s, cursor.i) : 0;
  const page = filtered.slice(from, from + limit);
  const last = page.at(-1);
  const next =
    last && from + limit < filtered.length ? encodeCursor({ s: last.startedAt, i: last.id, f: filterDigest(filters), l: limit }) : null;
  return { views: page, count: filtered.length, next };
}

/** The page `query` selects from `views`, kept as long as `views` is the workspace's list. */
function pageOf(views: readonly ListView[], query: ListQuery): { page: Page; paging: boolean } {
  let byKey = pages.get(views);
  if (!byKey) pages.set(views, (byKey = new Map()));
  const remember = (key: string, make: () => Page): Page => {
    let page = byKey.get(key);
    if (!page) {
      if (byKey.size >= PAGES_PER_LIST) byKey.clear();
      byKey.set(key, (page = make()));
    }
    return page;
  };
  // The wallboard's poll: no filter, no paging.
  if (Object.values(query).every((v) => v === undefined))
    return { page: remember('', () => select(views, {}, undefined, undefined)), paging: false };
  const filters: ListFilters = {
    ...(query.type !== undefined && { type: query.type }),
    ...(query.agent !== undefined && { agent: query.agent }),
    ...(query.sentiment !== undefined && { sentiment: query.sentiment }),
    ...(query.transferRequested !== undefined && { transferRequested: query.transferRequested }),
  };
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, filters);
  const limit = query.limit !== undefined || cursor !== undefined ? (query.limit ?? cursor?.l ?? MAX_PAGE) : undefined;
  const key = JSON.stringify([filters.type, filters.agent, filters.sentiment, filters.transferRequested, limit, cursor?.s, cursor?.i]);
  return { page: remember(key, () => select(views, filters, cursor, limit)), paging: limit !== undefined };
}

/**
 * The response body for `views` (the workspace's active calls in list order) as of `now`: `{data, count,
 * timestamp}`, plus `nextCursor` when paging (`limit` or `cursor` given). `count` is every call that matches
 * the filters, not the page's.
 */
export function listResponse(views: readonly ListView[], query: ListQuery, now: number): Buffer {
  const { page, paging } = pageOf(views, query);
  let close = `],"count":${page.count},"timestamp":"${new Date(now).toISOString()}"`;
  if (paging) close += `,"nextCursor":${page.next === null ? 'null' : `"${page.next}"`}`;
  const { body, template } = renderBody(page.views, page.template, now, `${close}}`);
  page.template = template;
  return body;
}
