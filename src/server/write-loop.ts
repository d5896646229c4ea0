// Drives the synchronous pipeline with real I/O: requests in, log append + one fdatasync per batch
// (group commit: everything submitted while a sync is under way goes into the next batch), then
// commit — applied to the shared tree inside one write window, published to the workers first.
import { assert } from '../common/assert.js';
import type { CommittedEntry, LogRecord, WriteRequest } from './pipeline/api.js';

export interface PipelineLike {
  submit(req: WriteRequest): void;
  takeLogRecords(): LogRecord[];
  logged(zxid: bigint): void;
  commit(publish: (entries: CommittedEntry[], appliedZxid: bigint) => void): void;
  pendingCount(): number;
}

export interface LogLike {
  append(records: LogRecord[]): void;
  sync(): Promise<void>;
}

export interface WriteLoopHooks {
  publish(entries: CommittedEntry[], appliedZxid: bigint): void;
  /** After a batch is published and the write window closed (snapshots, metrics). */
  afterBatch(txns: number): void;
  fatal(err: unknown): void;
}

export class WriteLoop {
  private scheduled = false;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  /** Set by a fatal error: nothing runs any more, and idle() must not wait for it. */
  private failed = false;
  syncs = 0;
  txns = 0;
  /** Time spent waiting for the log's write + fdatasync, and applying/publishing, in ms. */
  syncMs = 0;
  commitMs = 0;

  constructor(
    private readonly pipeline: PipelineLike,
    private readonly log: LogLike,
    private readonly hooks: WriteLoopHooks,
  ) {}

  submit(req: WriteRequest): void {
    this.pipeline.submit(req);
    this.schedule();
  }

  schedule(): void {
    if (this.scheduled || this.running || this.failed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  /** Resolves once nothing is pending (used at shutdown). */
  idle(): Promise<void> {
    if (this.failed || (!this.running && !this.scheduled && this.pipeline.pendingCount() === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    assert(!this.running, 'one write loop run at a time');
    this.running = true;
    try {
      for (;;) {
        const records = this.pipeline.takeLogRecords();
        if (records.length > 0) {
          this.log.append(records);
          // Save before you send: nothing of this batch is answered before the fdatasync.
          const t0 = performance.now();
          await this.log.sync();
          this.syncMs += performance.now() - t0;
          this.syncs++;
          this.pipeline.logged(records[records.length - 1]!.zxid);
        }
        let applied = 0;
        const t1 = performance.now();
        this.pipeline.commit((entries, appliedZxid) => {
          for (const e of entries) if (e.zxid !== 0n) applied++;
          this.hooks.publish(entries, appliedZxid);
        });
        this.commitMs += performance.now() - t1;
        this.txns += applied;
        this.hooks.afterBatch(applied);
        if (records.length === 0) break;
      }
    } catch (err) {
      this.failed = true;
      // A stop waiting in idle() (a shutdown that began before the failure) must not hang.
      for (const w of this.idleWaiters.splice(0)) w();
      this.hooks.fatal(err);
      return;
    } finally {
      this.running = false;
    }
    if (this.pipeline.pendingCount() > 0) this.schedule();
    else for (const w of this.idleWaiters.splice(0)) w();
  }
}
