// Executes the Zab core's effects with real I/O, keeping the ordering rules of quorum/api.ts:
//   - sends go out at once, in emission order (the transport keeps FIFO per peer); consecutive
//     sends of the same message object to several peers are written as one encoding;
//   - disk effects run one after another on one queue; consecutive appends are coalesced into one
//     write + fdatasync (group commit: one fdatasync covers every append queued before it
//     started, at most constants.zabLogBatchTxnsMax), reported back as one logSynced(last zxid);
//     the fdatasync never blocks this thread;
//   - local effects (pipeline, sessions, role) run at once, except behind a pending truncate or
//     snapshot install: those replace the local tree, so what follows them must see the new one.
// Every input given to the core is followed by pump(), which drains the core's effects until none
// are left (an effect's handler may feed the core again).
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import type { Effect, Proposal, ZabCore } from '../quorum/api.js';

export interface DiskOps {
  truncate(zxid: bigint): Promise<void>;
  /** Append and fdatasync. */
  append(proposals: Proposal[]): Promise<void>;
  installSnapshot(zxid: bigint, image: Uint8Array): Promise<void>;
  persistEpochs(acceptedEpoch: number, currentEpoch: number): Promise<void>;
}

export type LocalEffect = Exclude<Effect, { kind: 'send' | 'disconnect' | 'truncate' | 'installSnapshot' | 'persistEpochs' }>;

export interface EffectTarget {
  sendToMany(to: number[], msg: unknown): void;
  /** Cut both connections with `peer` (a learner the leader gave up on). */
  disconnect(peer: number, reason: string): void;
  disk: DiskOps;
  /** A local effect; `append` is given here too (before its disk write) so a learner's pipeline
   *  takes the proposals in the order they arrived, ahead of later replies. */
  local(effect: LocalEffect): void;
  /** A disk operation failed: the log may have lost what it acknowledged; the server must stop. */
  fatal(err: unknown): void;
}

type DiskJob = Exclude<Effect, { kind: 'send' | 'commit' | 'role' | 'request' | 'reply' | 'sessionsTouched' }>;

export class EffectRunner {
  private pumping = false;
  private readonly diskQueue: DiskJob[] = [];
  private diskBusy = false;
  /** Local effects held behind a tree-replacing disk job still in the queue, each with the count
   *  of such jobs dispatched before it: it runs once that many have completed. */
  private readonly heldLocal: { effect: LocalEffect; afterBarrier: number }[] = [];
  private barriersDispatched = 0;
  private barriersDone = 0;
  private failed = false;
  appendsSynced = 0;
  syncMs = 0;

  constructor(
    private readonly core: ZabCore,
    private readonly target: EffectTarget,
  ) {}

  /** Drains the core's effects; call after every input. Re-entrant calls fold into the running one. */
  pump(): void {
    if (this.pumping || this.failed) return;
    this.pumping = true;
    try {
      for (let effects = this.core.takeEffects(); effects.length > 0; effects = this.core.takeEffects()) {
        this.dispatch(effects);
      }
    } finally {
      this.pumping = false;
    }
  }

  private dispatch(effects: Effect[]): void {
    for (let i = 0; i < effects.length; i++) {
      const e = effects[i]!;
      switch (e.kind) {
        case 'send': {
          const to = [e.to];
          while (i + 1 < effects.length) {
            const next = effects[i + 1]!;
            if (next.kind !== 'send' || next.msg !== e.msg) break;
            to.push(next.to);
            i++;
          }
          this.target.sendToMany(to, e.msg);
          break;
        }
        case 'disconnect':
          this.target.disconnect(e.peer, e.reason);
          break;
        case 'truncate':
        case 'installSnapshot':
          this.barriersDispatched++;
          this.enqueueDisk(e);
          break;
        case 'persistEpochs':
          this.enqueueDisk(e);
          break;
        case 'append':
          this.runLocal(e);
          this.enqueueDisk(e);
          break;
        default:
          this.runLocal(e);
      }
    }
  }

  private runLocal(e: LocalEffect): void {
    if (this.barriersDone < this.barriersDispatched) this.heldLocal.push({ effect: e, afterBarrier: this.barriersDispatched });
    else this.target.local(e);
  }

  private enqueueDisk(job: DiskJob): void {
    this.diskQueue.push(job);
    if (!this.diskBusy) void this.runDisk();
  }

  private async runDisk(): Promise<void> {
    assert(!this.diskBusy, 'one disk job at a time');
    this.diskBusy = true;
    try {
      while (this.diskQueue.length > 0 && !this.failed) {
        const job = this.diskQueue.shift()!;
        switch (job.kind) {
          case 'append': {
            // Group commit: the appends queued behind this one share its write + fdatasync, and
            // the core hears of them as ONE logSynced(last zxid), which completes every append
            // it covers: a follower then sends one ACK per fdatasync and the leader one COMMIT
            // per quorum, not one per append (each of which a peer would decode and act on).
            // The write + fdatasync runs off this thread (the log's syncInline is off in an
            // ensemble): meanwhile proposals, ACKs and commits keep flowing, and what is
            // appended queues here to form the next batch, at most zabLogBatchTxnsMax of it.
            const proposals = [...job.proposals];
            for (let head = this.diskQueue[0]; head?.kind === 'append' && proposals.length + head.proposals.length <= constants.zabLogBatchTxnsMax; head = this.diskQueue[0]) {
              const next = this.diskQueue.shift() as Extract<DiskJob, { kind: 'append' }>;
              for (const p of next.proposals) proposals.push(p);
            }
            const t0 = performance.now();
            await this.target.disk.append(proposals);
            this.syncMs += performance.now() - t0;
            this.appendsSynced++;
            this.core.logSynced(proposals[proposals.length - 1]!.zxid);
            break;
          }
          case 'truncate':
            await this.target.disk.truncate(job.zxid);
            this.core.truncated(job.zxid);
            this.releaseBarrier();
            break;
          case 'installSnapshot':
            await this.target.disk.installSnapshot(job.zxid, job.image);
            this.core.snapshotInstalled(job.zxid);
            this.releaseBarrier();
            break;
          case 'persistEpochs':
            await this.target.disk.persistEpochs(job.acceptedEpoch, job.currentEpoch);
            this.core.epochsPersisted();
            break;
        }
        this.pump();
      }
    } catch (err) {
      this.failed = true;
      this.target.fatal(err);
    } finally {
      this.diskBusy = false;
    }
  }

  private releaseBarrier(): void {
    this.barriersDone++;
    assert(this.barriersDone <= this.barriersDispatched, 'a barrier completes once');
    while (this.heldLocal.length > 0 && this.heldLocal[0]!.afterBarrier <= this.barriersDone) this.target.local(this.heldLocal.shift()!.effect);
  }

  /** Whether disk work is queued or running (stop waits for it). */
  busy(): boolean {
    return this.diskBusy || this.diskQueue.length > 0;
  }
}
