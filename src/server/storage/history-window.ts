// The newest records of the log, bounded in count and bytes: what recovery hands the Zab core
// as its history (a leader sends a DIFF from it; a learner further behind gets a SNAP).
import { assert } from '../../common/assert.js';
import type { LogRecord } from '../pipeline/api.js';
import { zxidFollows } from './logformat.js';

export class HistoryWindow {
  private records: LogRecord[] = [];
  private head = 0; // records[head..] are kept
  private bytes = 0;

  constructor(
    private readonly txnsMax: number,
    private readonly bytesMax: number,
  ) {
    assert(txnsMax >= 0 && bytesMax >= 0, 'window bounds are not negative');
  }

  /**
   * Adds the next record (zxids increase); `bytes` is copied. A record that does not directly
   * follow the previous one restarts the window: a DIFF must never skip a txn.
   */
  push(zxid: bigint, bytes: Uint8Array): void {
    const last = this.head < this.records.length ? this.records.at(-1) : undefined;
    assert(last === undefined || zxid > last.zxid, 'window zxids increase');
    if (last !== undefined && !zxidFollows(last.zxid, zxid)) this.clear();
    if (this.txnsMax === 0 || bytes.length > this.bytesMax) {
      this.clear();
      return;
    }
    this.records.push({ zxid, bytes: new Uint8Array(bytes) });
    this.bytes += bytes.length;
    while (this.records.length - this.head > this.txnsMax || this.bytes > this.bytesMax) {
      this.bytes -= this.records[this.head]!.bytes.length;
      this.head++;
    }
    // Compact once the dropped prefix is as long as what is kept.
    if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.records = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** Oldest first. */
  toArray(): LogRecord[] {
    return this.records.slice(this.head);
  }
}
