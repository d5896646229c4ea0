// DistributedDoubleBarrier (Curator's): memberQty processes enter together and leave together.
//   enter: create our ephemeral node <path>/<uuid>; once memberQty nodes (besides `ready`) exist,
//          someone creates <path>/ready; everyone waits on an exists watch of `ready`.
//   leave: the lowest-named node waits for the highest to go; every other node deletes itself and
//          waits for the lowest; the last one out deletes `ready`. Each waiter watches one node.
// Timeouts return false, as Curator: enter() leaves our node in place (call leave() to withdraw),
// leave() leaves what it has not deleted yet.
import { randomUUID } from 'node:crypto';
import type { ZookooperClient } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import { ensurePath, isCode } from '../util.js';
import { apiError, deadlineOf, deleteOwned, expiredDeadline, joinPath, lockConstants, withRetry, type WatchEventHook } from './common.js';
import { Wakeup } from './wakeup.js';

const readyNode = 'ready';

export class DistributedDoubleBarrier {
  private readonly ourName = randomUUID();
  private readonly ourPath: string;
  private readonly readyPath: string;

  constructor(
    readonly zk: ZookooperClient,
    readonly path: string,
    readonly memberQty: number,
    private readonly opts: { onWatchEvent?: WatchEventHook } = {},
  ) {
    if (!Number.isInteger(memberQty) || memberQty < 1) throw new ZookooperError('BADARGUMENTS', `memberQty must be a positive integer, got ${memberQty}`);
    this.ourPath = joinPath(path, this.ourName);
    this.readyPath = joinPath(path, readyNode);
  }

  /** Enters and waits until memberQty members have entered: true, or false if `timeoutMs` passed first. */
  async enter(timeoutMs?: number): Promise<boolean> {
    const deadline = deadlineOf(timeoutMs);
    let wakeup = new Wakeup(this.opts.onWatchEvent);
    const readyExists = (await withRetry(this.zk, () => this.zk.exists(this.readyPath, { watch: wakeup.watcher }))) !== null;
    await this.createOurNode();
    if (readyExists) return true;
    for (let round = 0; round < lockConstants.waitRoundsMax; round++) {
      const children = await this.members();
      if (children.length >= this.memberQty) {
        try {
          await withRetry(this.zk, () => this.zk.create(this.readyPath));
        } catch (err) {
          if (!isCode(err, 'NODEEXISTS')) throw err;
        }
        return true;
      }
      if (wakeup.hasFired) {
        // `ready` appeared (or changed): look again with a fresh watch.
        wakeup = new Wakeup(this.opts.onWatchEvent);
        if ((await withRetry(this.zk, () => this.zk.exists(this.readyPath, { watch: wakeup.watcher }))) !== null) return true;
        continue;
      }
      if (expiredDeadline(deadline) || (await wakeup.wait(this.zk, deadline)) === 'timeout') return false;
    }
    throw new ZookooperError('RUNTIMEINCONSISTENCY', `enter exceeded ${lockConstants.waitRoundsMax} rounds`, this.path);
  }

  /** Leaves and waits until every member has left: true, or false if `timeoutMs` passed first. */
  async leave(timeoutMs?: number): Promise<boolean> {
    const deadline = deadlineOf(timeoutMs);
    let ourNodeShouldExist = true;
    for (let round = 0; round < lockConstants.waitRoundsMax; round++) {
      const children = (await this.members()).sort();
      if (children.length === 0) break;
      const ourIndex = children.indexOf(this.ourName);
      if (ourIndex < 0 && ourNodeShouldExist) throw apiError('our barrier node is missing (never entered, or the session expired)', this.ourPath);
      if (children.length === 1) {
        if (ourNodeShouldExist && children[0] !== this.ourName) throw apiError('the last barrier node is not ours', this.path);
        if (ourNodeShouldExist) await deleteOwned(this.zk, this.ourPath);
        break;
      }
      const wakeup = new Wakeup(this.opts.onWatchEvent);
      let watched: string;
      if (ourIndex === 0) {
        watched = joinPath(this.path, children[children.length - 1]!); // the lowest leaves last
      } else {
        watched = joinPath(this.path, children[0]!);
        if (ourNodeShouldExist) await deleteOwned(this.zk, this.ourPath);
        ourNodeShouldExist = false;
      }
      const stat = await withRetry(this.zk, () => this.zk.exists(watched, { watch: wakeup.watcher }));
      if (stat === null) continue;
      if (expiredDeadline(deadline) || (await wakeup.wait(this.zk, deadline)) === 'timeout') {
        await wakeup.cancel(this.zk, watched, 'data');
        return false;
      }
    }
    try {
      await deleteOwned(this.zk, this.readyPath);
    } catch (err) {
      if (!isCode(err, 'NOTEMPTY')) throw err;
    }
    return true;
  }

  private async createOurNode(): Promise<void> {
    // Not sequential: a retry after a lost answer is safe (NODEEXISTS = ours, our session made it).
    for (let attempt = 0; attempt < lockConstants.createAttemptsMax; attempt++) {
      try {
        await withRetry(this.zk, () => this.zk.create(this.ourPath, '', { mode: 'ephemeral' }));
        return;
      } catch (err) {
        if (isCode(err, 'NODEEXISTS')) return;
        if (!isCode(err, 'NONODE')) throw err;
        await ensurePath(this.zk, this.path, 'container');
      }
    }
    throw new ZookooperError('NONODE', 'could not create our barrier node', this.ourPath);
  }

  private async members(): Promise<string[]> {
    try {
      return (await withRetry(this.zk, () => this.zk.getChildren(this.path))).filter((c) => c !== readyNode);
    } catch (err) {
      if (isCode(err, 'NONODE')) return [];
      throw err;
    }
  }
}
