/** The sender's queue: a fixed-capacity ring: O(1) push, take and drop-oldest, never grows. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  length = 0;
  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }
  /** Appends; returns the evicted oldest item when full. */
  push(x: T): T | undefined {
    let evicted: T | undefined;
    if (this.length === this.capacity) evicted = this.shift();
    this.items[(this.head + this.length) % this.capacity] = x;
    this.length++;
    return evicted;
  }
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const x = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    return x;
  }
}
