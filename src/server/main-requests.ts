// The main thread's own write requests (session create and close, expiry, container sweeps).
// They travel through the same pipeline as client writes, under tags of a worker slot no worker
// has, and are finished once their batch is published in the tree (after the workers were told).
import type { CommittedEntry, WriteOp, WriteRequest } from './pipeline/api.js';
import { tagWorker, tagWorkerBits } from './workers/messages.js';

/** The main thread's requests use this worker slot. */
export const mainTagSlot = tagWorkerBits - 1;

/** True for a tag of a main-thread request (an expiry's closeSession, a createSession, ...). */
export function isMainTag(tag: number): boolean {
  return tagWorker(tag) === mainTagSlot;
}

export class MainRequests {
  private seq = 0;
  private readonly waiting = new Map<number, (entry: CommittedEntry) => void>();
  /** Committed in the batch being published; finished by finishPublished(). */
  private readonly published: CommittedEntry[] = [];

  /** @param submit hands a request to the write path (the role's submit). */
  constructor(private readonly submit: (req: WriteRequest) => void) {}

  request(sessionId: bigint, op: WriteOp, onDone: (entry: CommittedEntry) => void): void {
    const tag = ++this.seq * tagWorkerBits + mainTagSlot;
    this.waiting.set(tag, onDone);
    this.submit({ sessionId, tag, authIds: [], op });
  }

  /** An entry of a main-thread request, committed in the batch being published. */
  committed(entry: CommittedEntry): void {
    this.published.push(entry);
  }

  /** After the batch is visible in the tree: runs the callbacks of its main-thread requests. */
  finishPublished(): void {
    for (const e of this.published.splice(0)) {
      const cb = this.waiting.get(e.tag);
      this.waiting.delete(e.tag);
      cb?.(e);
    }
  }
}
