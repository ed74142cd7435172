/**
 * The order of the active calls list: by start time, then by id (so two calls started in the same
 * millisecond still have one order, which paging cursors rely on). Stores keep their lists in it.
 */
import { startedAt, type Call } from './call.ts';
import type { ListView } from './view.ts';

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function callsInListOrder(a: Call, b: Call): number {
  return startedAt(a) - startedAt(b) || byId(a.id, b.id);
}

export function viewsInListOrder(a: ListView, b: ListView): number {
  return a.startedAt - b.startedAt || byId(a.id, b.id);
}

/** The first index of `sorted` (in `order`) whose item is not before `item`: where `item` is, or goes. */
export function lowerBound<T>(sorted: readonly T[], item: T, order: (a: T, b: T) => number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order(sorted[mid] as T, item) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
