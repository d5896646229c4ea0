// Each role's write path, wired from the same stages (ZooKeeper's setupRequestProcessors): one
// short function per role, so the path a write takes on this server reads in one place.
//
//   standalone: pipeline (prep) -> log append + fdatasync -> commit (apply to the tree) -> publish
import type { CommittedEntry, WriteRequest } from './pipeline/api.js';
import { WriteLoop, type LogLike, type PipelineLike } from './write-loop.js';

/** What the composition root drives, whatever the role. */
export interface WritePath {
  /** A request of the main thread (session create/close, sweeps): scheduled at once. */
  submit(req: WriteRequest): void;
  /** A batch of client requests from a worker, scheduled once. */
  submitBatch(reqs: readonly WriteRequest[]): void;
  /** Resolves once nothing is pending (shutdown). */
  idle(): Promise<void>;
  /** Figures for the state pages. */
  figures(): { txns: number; syncs: number; syncMs: number; commitMs: number };
}

export interface PublishHooks {
  /** Inside the write window, before the batch is visible in the tree: tell the workers. */
  publish(entries: CommittedEntry[], appliedZxid: bigint): void;
  /** After the batch is visible (held attaches, main-thread callbacks, snapshots). */
  afterBatch(txns: number): void;
  fatal(err: unknown): void;
}

export interface StandaloneParts {
  pipeline: PipelineLike;
  log: LogLike;
  hooks: PublishHooks;
}

/** Standalone: every write is prepared, logged and committed here; no peers. */
export function standalone({ pipeline, log, hooks }: StandaloneParts): WritePath {
  const loop = new WriteLoop(pipeline, log, hooks);
  return {
    submit: (req) => loop.submit(req),
    submitBatch: (reqs) => {
      for (const r of reqs) pipeline.submit(r);
      loop.schedule();
    },
    idle: () => loop.idle(),
    figures: () => ({ txns: loop.txns, syncs: loop.syncs, syncMs: loop.syncMs, commitMs: loop.commitMs }),
  };
}
