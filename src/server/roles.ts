// Each role's write path, wired from the same stages (ZooKeeper's setupRequestProcessors): one
// short function per role, so the path a write takes on this server reads in one place.
//
//   standalone: pipeline (prep) -> log append + fdatasync -> commit (apply to the tree) -> publish
import { assert } from '../common/assert.js';
import { constants } from '../common/constants.js';
import type { ErrorCode } from '../common/errors.js';
import type { LocalEffect } from './ensemble/effects.js';
import type { CommittedEntry, WriteRequest } from './pipeline/api.js';
import type { Pipeline } from './pipeline/index.js';
import type { ZabCore } from './quorum/api.js';
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

// ---- the ensemble's roles ----------------------------------------------------------------
//
//   leader:   pipeline (prep, also learners' forwarded requests) -> Zab core: PROPOSAL to every
//             follower + append to the own log (fdatasync) -> quorum of ACKs -> commit effect
//             -> apply to the tree -> publish; a forwarded request that made no txn goes back
//             to its server as a REPLY, in queue order with the proposals
//   learner:  a client write is forwarded to the leader (REQUEST); the leader's PROPOSAL (or an
//             observer's INFORM) -> append to the own log (fdatasync) -> ACK (followers) ->
//             COMMIT -> apply -> publish: the origin server answers its client; a REPLY is
//             answered once the txns before it are applied
// The Zab core decides; the EffectRunner (ensemble/effects.ts) executes its effects in order and
// hands the local ones (append, commit, request, reply) to the role's path below.

/** What a role's write path is made of; `pipeline()` is the current one (a TRUNC or SNAP replaces it). */
export interface EnsembleParts {
  myId: number;
  pipeline(): Pipeline;
  /** The zxid the local tree has applied. */
  appliedZxid(): bigint;
  core: ZabCore;
  /** Drains the core's effects (call after every input to the core). */
  pump(): void;
  hooks: PublishHooks;
  /** Time (ms) one apply of the committed prefix took (tree window + publish), for /mntr. */
  committed(ms: number): void;
  /** Answers this server's own requests that cannot be done (no leader, a role change). */
  failLocal(entries: readonly { tag: number; sessionId: bigint }[], code: ErrorCode, message: string): void;
  /** Runs `fn` soon, once (batching: everything submitted meanwhile goes in one proposal run). */
  defer(fn: () => void): void;
}

export interface RolePath {
  submitBatch(reqs: readonly WriteRequest[]): void;
  /** Leaving the role: this server's requests still waiting for an answer get CONNECTIONLOSS. */
  abandon(): void;
  /** Whether a request of this server (by tag) was forwarded and is still waiting: abandon() answers it. */
  waitingFor(tag: number): boolean;
  /** A local effect of the core: append, commit, request or reply. */
  effect(e: Extract<LocalEffect, { kind: 'append' | 'commit' | 'request' | 'reply' }>): void;
}

/** Leader: every write is prepared here, proposed and logged by the core, applied on commit. */
export function leader(p: EnsembleParts): RolePath {
  const apply = applier(p);
  let queued = false;
  const flush = (): void => {
    queued = false;
    const pipeline = p.pipeline();
    // Bounded: beyond zabProposalsInFlightMax the prepared txns wait in the pipeline (whose own
    // bound answers THROTTLEDOP) until commits make room; commit() reschedules.
    while (p.core.inFlight() < constants.zabProposalsInFlightMax) {
      const out = pipeline.takeOutput();
      if (out.length === 0) break;
      for (const o of out) {
        if (o.kind === 'propose') p.core.propose(o.records.map((r) => ({ zxid: r.zxid, txn: r.bytes, origin: r.origin })));
        else p.core.replyTo(o.origin, o.afterZxid, o.result);
      }
    }
    p.pump();
    apply.run(); // txn-less answers (errors, sync) of this server's own sessions are ready now
  };
  const schedule = (): void => {
    if (queued) return;
    queued = true;
    p.defer(flush);
  };
  return {
    submitBatch(reqs) {
      const pipeline = p.pipeline();
      for (const r of reqs) pipeline.submit(r);
      schedule();
    },
    // The leader's own requests are in its pipeline: its reset() returns them.
    abandon() {},
    waitingFor: () => false,
    effect(e) {
      switch (e.kind) {
        case 'request':
          p.pipeline().submit({ ...e.forwarded.request, origin: e.forwarded.origin });
          schedule();
          break;
        case 'commit':
          apply.through(e.zxid);
          schedule();
          break;
        case 'append':
          break; // the leader's own proposals: the pipeline prepared them
        case 'reply':
          assert(false, 'a leader gets no REPLY');
      }
    },
  };
}

/** Follower and observer: writes go to the leader; its txns are logged here and applied on commit. */
export function learner(p: EnsembleParts): RolePath {
  // Requests forwarded and not answered yet, by tag. Only these are answered when their txn or
  // REPLY comes: one answered CONNECTIONLOSS when this server left its role (abandon) may still
  // be proposed by a leader that lived on, and must not be answered (or counted) twice.
  const outstanding = new Map<number, bigint>();
  const apply = applier(p, (entries) => {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.origin === undefined || e.origin.serverId !== p.myId) continue;
      if (outstanding.delete(e.tag)) continue;
      const { origin: _answered, ...rest } = e;
      entries[i] = rest; // its client was told CONNECTIONLOSS already: only its events count here
    }
  });
  return {
    submitBatch(reqs) {
      const failed: WriteRequest[] = [];
      for (const r of reqs) {
        const forwarded = { origin: { serverId: p.myId, sessionId: r.sessionId, tag: r.tag }, request: r };
        if (p.core.forward(forwarded)) outstanding.set(r.tag, r.sessionId);
        else failed.push(r);
      }
      p.pump();
      if (failed.length > 0) p.failLocal(failed, 'CONNECTIONLOSS', 'no leader to forward the write to');
    },
    waitingFor: (tag) => outstanding.has(tag),
    abandon() {
      const waiting = [...outstanding].map(([tag, sessionId]) => ({ tag, sessionId }));
      outstanding.clear();
      p.failLocal(waiting, 'CONNECTIONLOSS', 'the leader changed before the write was answered');
    },
    effect(e) {
      switch (e.kind) {
        case 'append': {
          const pipeline = p.pipeline();
          for (const x of e.proposals) pipeline.acceptProposal(x.zxid, x.txn, x.origin);
          break;
        }
        case 'commit':
          apply.through(e.zxid);
          break;
        case 'reply':
          p.pipeline().acceptReply(e.origin, e.afterZxid, e.result);
          apply.run();
          break;
        case 'request':
          assert(false, 'a learner gets no forwarded request');
      }
    },
  };
}

/**
 * Applies what the pipeline has ready and tells the core how far the tree is. `screen` may
 * rewrite the committed entries (in place) before they are published.
 */
function applier(p: EnsembleParts, screen: (entries: CommittedEntry[]) => void = () => {}): { through(zxid: bigint): void; run(): void } {
  // pipeline.logged() only moves forward; a reloaded pipeline (TRUNC, SNAP) starts afresh.
  let loggedFor: Pipeline | null = null;
  let logged = 0n;
  const run = (): void => {
    const pipeline = p.pipeline();
    let txns = 0;
    const t0 = performance.now();
    pipeline.commit((entries, appliedZxid) => {
      for (const e of entries) if (e.zxid !== 0n) txns++;
      screen(entries);
      p.hooks.publish(entries, appliedZxid);
    });
    p.committed(performance.now() - t0);
    p.hooks.afterBatch(txns);
    const applied = p.appliedZxid();
    const committed = p.core.committedZxid();
    p.core.applied(applied < committed ? applied : committed);
    p.pump();
  };
  return {
    through(zxid) {
      const pipeline = p.pipeline();
      if (loggedFor !== pipeline) {
        loggedFor = pipeline;
        logged = p.appliedZxid(); // a pipeline starts a role at the applied zxid
      }
      // The core commits only what this server has logged: the commit point is also durable here.
      if (zxid > logged) {
        pipeline.logged(zxid);
        logged = zxid;
      }
      pipeline.quorumCommitted(zxid);
      run();
    },
    run,
  };
}
