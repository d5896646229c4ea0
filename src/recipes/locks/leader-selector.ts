// LeaderSelector (Curator's): participants queue on an InterProcessMutex under the election path;
// the holder runs `takeLeadership`, and leadership ends when that callback returns (then the mutex
// is released, and with autoRequeue the participant queues again).
//
// Interruption (Curator's LeaderSelectorListenerAdapter cancels leadership on SUSPENDED and LOST):
// the callback gets an AbortSignal, aborted when
//   - the session expires or the client closes (reason: ZookooperError SESSIONEXPIRED) - always;
//   - the connection is lost (reason: CONNECTIONLOSS) - with errorPolicy 'standard' (default),
//     because another participant may lead once our session expires. With 'session' a
//     disconnection only emits 'suspended' and leadership is kept unless the session expires;
//   - our mutex node vanishes, or interruptLeadership()/close() is called.
// JavaScript cannot stop a running function: the callback must watch the signal and return.
// hasLeadership() turns false the moment the signal aborts.
import { EventEmitter } from 'node:events';
import type { ClientState, ZookooperClient } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import { apiError, sessionEnded, type WatchEventHook } from './common.js';
import { standardDriver } from './lock-internals.js';
import type { ErrorPolicy } from './leader-latch.js';
import { InterProcessMutex } from './mutex.js';
import { participantsOf, type Participant } from './participants.js';

export type TakeLeadership = (zk: ZookooperClient, signal: AbortSignal) => Promise<void>;

export interface LeaderSelectorOptions {
  /** Queue again after leadership ends (Curator's autoRequeue()); default false. */
  autoRequeue?: boolean;
  /** Stored as our node's data; getParticipants() reports it. */
  id?: string;
  errorPolicy?: ErrorPolicy;
  onWatchEvent?: WatchEventHook;
}

export interface LeaderSelectorEvents {
  /** takeLeadership threw (other than by honouring an abort), or queueing failed. */
  error: [Error];
  /** Connection lost while leading under errorPolicy 'session'. */
  suspended: [];
}

const selectorLockName = 'lock-';

export class LeaderSelector extends EventEmitter<LeaderSelectorEvents> {
  private readonly mutex: InterProcessMutex;
  private readonly policy: ErrorPolicy;
  private started = false;
  private closed = false;
  private autoRequeue: boolean;
  private queued = false; // a run of the loop is pending or active
  private requeueRequested = false;
  private leading: AbortController | null = null;
  private waiting: AbortController | null = null;
  private loop: Promise<void> = Promise.resolve();
  private readonly onState = (state: ClientState): void => this.stateChanged(state);
  readonly id: string;

  constructor(
    readonly zk: ZookooperClient,
    readonly path: string,
    private readonly listener: TakeLeadership,
    opts: LeaderSelectorOptions = {},
  ) {
    super();
    this.id = opts.id ?? '';
    this.autoRequeue = opts.autoRequeue ?? false;
    this.policy = opts.errorPolicy ?? 'standard';
    this.mutex = new InterProcessMutex(zk, path, { lockData: this.id, ...(opts.onWatchEvent ? { onWatchEvent: opts.onWatchEvent } : {}) }, {
      lockName: selectorLockName,
      maxLeases: 1,
      driver: standardDriver,
    });
    this.mutex.on('lost', () => this.leading?.abort(new ZookooperError('SESSIONEXPIRED', 'leadership lost: our node or session is gone', this.path)));
  }

  start(): void {
    if (this.started || this.closed) throw apiError('a selector starts once', this.path);
    this.started = true;
    this.zk.on('state', this.onState);
    this.requeue();
  }

  /**
   * Queue for leadership again. Returns true if this call adds a turn: nothing was queued, or the
   * current turn is leading/releasing (another turn follows it); false if already waiting in the
   * queue or a further turn was already requested.
   */
  requeue(): boolean {
    if (!this.started || this.closed) throw apiError('selector not started or closed', this.path);
    if (this.queued) {
      if (this.waiting !== null || this.requeueRequested) return false;
      this.requeueRequested = true;
      return true;
    }
    this.queued = true;
    this.loop = this.run();
    return true;
  }

  setAutoRequeue(on: boolean): void {
    this.autoRequeue = on;
  }

  hasLeadership(): boolean {
    return this.leading !== null && !this.leading.signal.aborted;
  }

  /** Aborts the running takeLeadership (it must honour its signal). */
  interruptLeadership(): void {
    this.leading?.abort(apiError('leadership interrupted', this.path));
  }

  /** Stops: aborts leadership or the wait, releases our node, never queues again. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.zk.off('state', this.onState);
    const reason = apiError('selector closed', this.path);
    this.leading?.abort(reason);
    this.waiting?.abort(reason);
    await this.loop;
  }

  async getParticipants(): Promise<Participant[]> {
    return participantsOf(this.zk, this.path, selectorLockName);
  }

  async getLeader(): Promise<Participant | null> {
    return (await this.getParticipants())[0] ?? null;
  }

  private async run(): Promise<void> {
    try {
      for (let again = true; again && !this.closed && !sessionEnded(this.zk); ) {
        this.requeueRequested = false;
        await this.takeTurn();
        again = this.autoRequeue || this.requeueRequested;
      }
    } finally {
      this.queued = false;
    }
  }

  /** One turn: wait for the mutex, lead until the callback returns, release. */
  private async takeTurn(): Promise<void> {
    const waiting = new AbortController();
    this.waiting = waiting;
    let held: boolean;
    try {
      held = await this.mutex.acquire(undefined, { signal: waiting.signal });
    } catch (err) {
      if (!waiting.signal.aborted && !sessionEnded(this.zk)) this.reportError(err);
      return;
    } finally {
      this.waiting = null;
    }
    if (!held) return;
    const leading = new AbortController();
    this.leading = leading;
    if (this.closed || this.mutex.isAcquiredInThisProcess() === false) leading.abort(apiError('selector closed', this.path));
    else if (this.zk.state === 'disconnected' && this.policy === 'standard') leading.abort(new ZookooperError('CONNECTIONLOSS', 'leadership suspended', this.path));
    try {
      if (!leading.signal.aborted) await this.listener(this.zk, leading.signal);
    } catch (err) {
      if (!leading.signal.aborted) this.reportError(err);
    } finally {
      this.leading = null;
      await this.mutex.release().catch((err: unknown) => {
        if (!sessionEnded(this.zk)) this.reportError(err);
      });
    }
  }

  private reportError(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }

  private stateChanged(state: ClientState): void {
    if (state === 'expired' || state === 'closed') {
      this.leading?.abort(new ZookooperError('SESSIONEXPIRED', 'leadership lost: session ended', this.path));
    } else if (state === 'disconnected' && this.leading !== null) {
      if (this.policy === 'standard') this.leading.abort(new ZookooperError('CONNECTIONLOSS', 'leadership suspended: connection lost', this.path));
      else this.emit('suspended');
    }
  }
}
