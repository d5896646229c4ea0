// A FIFO bound on calls in flight. FIFO matters: the caches rely on reads of one path being sent in
// the order they were asked for (see cache-state.ts), so queued calls are started synchronously,
// strictly in order, and a new call never overtakes a queued one.
import { assert } from '../../common/assert.js';

export class Limiter {
  private running = 0;
  private queue: (() => Promise<void>)[] = [];
  private head = 0;

  constructor(private readonly max: number) {
    assert(Number.isInteger(max) && max > 0, 'limiter bound is a positive integer');
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(async () => {
        try {
          resolve(await fn());
        } catch (err) {
          reject(err);
        }
      });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.max && this.head < this.queue.length) {
      const job = this.queue[this.head]!;
      this.head++;
      this.running++;
      void job().finally(() => {
        this.running--;
        this.pump();
      });
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
