// LeaderLatch (Curator's): every participant queues an ephemeral-sequential node under the latch
// path; the lowest leads; each other participant watches only its predecessor (herd-free), and
// looks again when that node goes.
//
// States: latent (constructed) -> started -> closed. Leadership while started follows the node
// order, and the connection, by `errorPolicy`:
//   'standard' (default, Curator's StandardConnectionStateErrorPolicy): leadership is dropped as
//              soon as the connection is lost ('disconnected' = Curator's SUSPENDED), since another
//              process may lead once our session expires; regained on reconnect if our node is
//              still first.
//   'session'  (SessionConnectionStateErrorPolicy): kept while disconnected; dropped on expiry.
// On session expiry/close of the client, leadership is lost for good: this client never gets a new
// session, so the latch moves to closed and `await` rejects with SESSIONEXPIRED.
import { EventEmitter } from 'node:events';
import type { ClientState, ZookooperClient } from '../../client/index.js';
import { isCode, sequenceOf, sortBySequence } from '../util.js';
import { apiError, deadlineOf, deleteQuietly, joinPath, nodeName, sessionEnded, sessionEndedError, withRetry, type WatchEventHook } from './common.js';
import { participantsOf, type Participant } from './participants.js';
import { createProtected } from './protected.js';
import { Wakeup } from './wakeup.js';

export type ErrorPolicy = 'standard' | 'session';
export type LatchState = 'latent' | 'started' | 'closed';

export interface LeaderLatchOptions {
  errorPolicy?: ErrorPolicy;
  onWatchEvent?: WatchEventHook;
}

export interface LeaderLatchEvents {
  isLeader: [];
  notLeader: [];
  /** A background check failed (after bounded retries); it runs again on the next reconnect. */
  error: [Error];
}

const latchName = 'latch-';

export class LeaderLatch extends EventEmitter<LeaderLatchEvents> {
  private _state: LatchState = 'latent';
  private leader = false;
  private ourPath: string | null = null;
  private checking = false;
  private checkAgain = false;
  private readonly policy: ErrorPolicy;
  private readonly onState = (state: ClientState): void => this.stateChanged(state);

  constructor(
    readonly zk: ZookooperClient,
    readonly path: string,
    readonly id = '',
    private readonly opts: LeaderLatchOptions = {},
  ) {
    super();
    this.policy = opts.errorPolicy ?? 'standard';
  }

  get state(): LatchState {
    return this._state;
  }

  hasLeadership(): boolean {
    return this._state === 'started' && this.leader;
  }

  /** Queues our node; leadership then arrives as the 'isLeader' event (or see await()). */
  async start(): Promise<void> {
    if (this._state !== 'latent') throw apiError(`cannot start a ${this._state} latch`, this.path);
    this._state = 'started';
    this.zk.on('state', this.onState);
    try {
      this.ourPath = await createProtected(this.zk, this.path, latchName, this.id, 'ephemeral_sequential');
    } catch (err) {
      this.zk.off('state', this.onState);
      this._state = 'closed';
      throw err;
    }
    await this.check();
  }

  /**
   * Leaves the election: deletes our node so the next participant leads. 'silent' (Curator's
   * default) does not emit notLeader; 'notifyLeader' does if we were leading.
   */
  async close(mode: 'silent' | 'notifyLeader' = 'silent'): Promise<void> {
    if (this._state !== 'started') throw apiError(`cannot close a ${this._state} latch`, this.path);
    this._state = 'closed';
    this.zk.off('state', this.onState);
    const path = this.ourPath;
    this.ourPath = null;
    this.setLeadership(false, mode === 'notifyLeader');
    if (path !== null) await deleteQuietly(this.zk, path);
  }

  /** Resolves true once we lead, false if `timeoutMs` passed first; rejects once the latch is closed. */
  async await(timeoutMs?: number): Promise<boolean> {
    const deadline = deadlineOf(timeoutMs);
    if (this.hasLeadership()) return true;
    if (this._state !== 'started') throw sessionEnded(this.zk) ? sessionEndedError(this.zk, this.path) : apiError(`latch is ${this._state}`, this.path);
    return new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const done = (): void => {
        if (timer !== null) clearTimeout(timer);
        this.off('isLeader', onLeader);
        this.zk.off('state', onState);
      };
      const onLeader = (): void => {
        done();
        resolve(true);
      };
      const onState = (s: ClientState): void => {
        if (s !== 'expired' && s !== 'closed') return;
        done();
        reject(sessionEndedError(this.zk, this.path));
      };
      this.on('isLeader', onLeader);
      this.zk.on('state', onState);
      if (deadline !== null) {
        timer = setTimeout(() => {
          done();
          resolve(this.hasLeadership());
        }, Math.max(0, deadline - Date.now()));
      }
    });
  }

  /** Our node's path while started (with its protected prefix). */
  get nodePath(): string | null {
    return this.ourPath;
  }

  async getParticipants(): Promise<Participant[]> {
    return participantsOf(this.zk, this.path, latchName);
  }

  async getLeader(): Promise<Participant | null> {
    return (await this.getParticipants())[0] ?? null;
  }

  /** Runs one check at a time; a request during a check runs one more after it. */
  private async check(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.checkAgain = false;
        if (this._state !== 'started' || sessionEnded(this.zk)) return;
        try {
          await this.checkOnce();
        } catch (err) {
          if (this._state === 'started' && !sessionEnded(this.zk) && this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
        }
      } while (this.checkAgain);
    } finally {
      this.checking = false;
    }
  }

  private async checkOnce(): Promise<void> {
    const ourPath = this.ourPath;
    if (ourPath === null) return;
    const children = await withRetry(this.zk, () => this.zk.getChildren(this.path));
    if (this.ourPath !== ourPath) return; // closed (or reset) meanwhile: this answer is stale
    const sorted = sortBySequence(children.filter((c) => c.includes(latchName) && sequenceOf(c) >= 0));
    const i = sorted.indexOf(nodeName(ourPath));
    if (i < 0) {
      // Our node is gone though the session lives (deleted by someone): queue a new one, as Curator's reset().
      this.setLeadership(false, true);
      const fresh = await createProtected(this.zk, this.path, latchName, this.id, 'ephemeral_sequential');
      if (this._state !== 'started') {
        await deleteQuietly(this.zk, fresh); // closed while we queued it: no orphan left in the election
        return;
      }
      this.ourPath = fresh;
      this.checkAgain = true;
      return;
    }
    if (i === 0) {
      this.setLeadership(this.zk.state === 'connected' || this.policy === 'session', true);
      return;
    }
    this.setLeadership(false, true);
    const wakeup = new Wakeup((e) => {
      this.opts.onWatchEvent?.(e);
      void this.check();
    });
    try {
      await withRetry(this.zk, () => this.zk.getData(joinPath(this.path, sorted[i - 1]!), { watch: wakeup.watcher }));
    } catch (err) {
      if (!isCode(err, 'NONODE')) throw err;
      this.checkAgain = true; // the predecessor left already
    }
  }

  private setLeadership(value: boolean, notify: boolean): void {
    if (this.leader === value) return;
    this.leader = value;
    if (notify) this.emit(value ? 'isLeader' : 'notLeader');
  }

  private stateChanged(state: ClientState): void {
    if (this._state !== 'started') return;
    if (state === 'disconnected') {
      if (this.policy === 'standard') this.setLeadership(false, true);
    } else if (state === 'connected') {
      void this.check(); // same session: our node is still queued; is it first?
    } else if (state === 'expired' || state === 'closed') {
      this._state = 'closed';
      this.ourPath = null;
      this.zk.off('state', this.onState);
      this.setLeadership(false, true);
    }
  }
}
