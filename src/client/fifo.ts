// A FIFO queue with O(1) push and shift (Array#shift is O(n) on large arrays). Responses arrive in
// request order, so the requests in flight are a FIFO, not a map: the head must match each xid.
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined; // let it be collected
    // Compact once the dead prefix dominates, so memory stays proportional to the live length.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Remove and return everything, oldest first. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }

  /** Put items back at the front, keeping their order (used to send internal requests first). */
  unshiftAll(front: T[]): void {
    this.items = [...front, ...this.items.slice(this.head)];
    this.head = 0;
  }
}
