/**
 * One workspace's active calls in memory, by room name, that also keeps them in list order (start time,
 * then id) and as list views between changes. The list is read far more often than calls change (every
 * wallboard polls it), so the order is kept up to date as calls come and go (a binary search, no sort per
 * read) and each call's view is made once: a committed change replaces the Call object, never mutates it,
 * so a view keyed by the object is exactly as fresh as the call.
 */
import type { Call } from '../../domain/call.ts';
import { callsInListOrder, lowerBound } from '../../domain/list-order.ts';
import { toListView, type ListView } from '../../domain/view.ts';

const views = new WeakMap<Call, ListView>();

function viewOf(call: Call): ListView {
  let view = views.get(call);
  if (!view) views.set(call, (view = toListView(call)));
  return view;
}

export class ActiveRooms extends Map<string, Call> {
  /** Every value, in list order; kept in step with the map. */
  #sorted: Call[] = [];
  #views: readonly ListView[] | undefined;

  override set(roomName: string, call: Call): this {
    const before = super.get(roomName);
    super.set(roomName, call);
    if (before === call) return this;
    this.#views = undefined;
    if (before) this.#remove(before);
    this.#sorted.splice(lowerBound(this.#sorted, call, callsInListOrder), 0, call);
    return this;
  }

  override delete(roomName: string): boolean {
    const before = super.get(roomName);
    if (!super.delete(roomName)) return false;
    this.#views = undefined;
    if (before) this.#remove(before);
    return true;
  }

  override clear(): void {
    super.clear();
    this.#sorted = [];
    this.#views = undefined;
  }

  #remove(call: Call): void {
    const i = lowerBound(this.#sorted, call, callsInListOrder);
    if (this.#sorted[i] === call) this.#sorted.splice(i, 1);
  }

  /** The calls in list order (a copy). */
  sorted(): Call[] {
    return [...this.#sorted];
  }

  /** The calls' list views in list order; the same array until a call changes. */
  views(): readonly ListView[] {
    return (this.#views ??= this.#sorted.map(viewOf));
  }
}
