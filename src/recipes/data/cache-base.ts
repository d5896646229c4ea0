// The I/O side shared by NodeCache and TreeCache: one persistent watch, reads in FIFO order tagged
// `latest` (cache-state.ts says why), a single-flight (re)load loop, and the session lifecycle.
//
// Lifecycle of a cache:
//   new          constructed; start() has not been called
//   loading      start() registered the watch and is reading the node(s); events are applied but
//                not emitted (they are part of the initial snapshot). Ends with 'initialized'
//   live         watch events trigger reads; each difference is emitted as created/changed/deleted
//   resyncing    the client reconnected ('connected' after 'disconnected'): a persistent watch gets
//                no events for what happened while cut off, so the whole node set is read again and
//                the differences are emitted (each at most once: see CacheState.apply). Ends with
//                'resynced'
//   stale        the session expired: the client can never follow changes again. The cache keeps
//                its last content, emits 'stale' and waits for rebuild(newClient)
//   closed       close() was called
import { EventEmitter } from 'node:events';
import type { ZookooperClient, ClientState } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import type { WatchedEvent, WatchMode } from '../../common/types.js';
import { isCode } from '../util.js';
import { CacheState, type CacheChange, type ChildData } from './cache-state.js';
import { closedError } from './errors.js';
import { dataLimits } from './limits.js';
import { Limiter } from './limiter.js';

export interface CacheEvents {
  /** The first complete load is done; get()/children() now reflect the server. */
  initialized: [];
  created: [node: ChildData];
  changed: [node: ChildData, previous: ChildData];
  deleted: [node: ChildData];
  /** A re-read after a reconnect (or rebuild) completed; its differences were emitted before this. */
  resynced: [];
  /** The session ended: the cache stopped following the server and needs rebuild(newClient). */
  stale: [reason: ZookooperError];
  /** A failure the cache cannot retry by itself (NOAUTH, QUOTAEXCEEDED for a full cache...). */
  error: [err: Error];
}

export interface CacheOptions {
  /** Nodes kept at most (default dataLimits.cacheNodesMax); beyond it new nodes are left out and 'error' reports QUOTAEXCEEDED. */
  nodesMax?: number;
  /** Reads in flight while loading (default dataLimits.cacheReadsInFlightMax). */
  readsInFlightMax?: number;
}

/** Failures that a reconnect (and the re-read it triggers) repairs by itself. */
function transient(err: unknown): boolean {
  return isCode(err, 'CONNECTIONLOSS') || isCode(err, 'OPERATIONTIMEOUT');
}

export abstract class WatchedCache extends EventEmitter<CacheEvents> {
  protected readonly state: CacheState;
  private readonly limiter: Limiter;
  private readonly latest = new Map<string, number>(); // path -> id of the last read issued
  private readId = 0;
  /** Bumped by rebuild(): results of reads made through an earlier client are dropped. */
  private generation = 0;
  private started = false;
  private closed = false;
  private _stale = false;
  private _initialized = false;
  private wasDisconnected = false;
  private loading = false;
  private loadWanted = false;
  private full = false;
  private _lastError: Error | null = null;
  private readyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private readonly watcher = (event: WatchedEvent): void => this.onWatch(event);
  private readonly stateListener = (s: ClientState): void => this.onClientState(s);

  protected constructor(
    protected zk: ZookooperClient,
    readonly path: string,
    private readonly mode: WatchMode,
    opts: CacheOptions,
  ) {
    super();
    const nodesMax = opts.nodesMax ?? dataLimits.cacheNodesMax;
    if (!Number.isInteger(nodesMax) || nodesMax < 1) throw new ZookooperError('BADARGUMENTS', `nodesMax must be a positive integer, got ${nodesMax}`);
    this.state = new CacheState(path, nodesMax);
    this.limiter = new Limiter(opts.readsInFlightMax ?? dataLimits.cacheReadsInFlightMax);
  }

  /** Whether the cache has lost its session and no longer follows the server. */
  get stale(): boolean {
    return this._stale;
  }
  get initialized(): boolean {
    return this._initialized;
  }
  /** The last error, also when no 'error' listener was attached (errors are then not thrown). */
  get lastError(): Error | null {
    return this._lastError;
  }
  get size(): number {
    return this.state.size;
  }

  /** Registers the watch and loads; resolves after 'initialized'. */
  async start(): Promise<void> {
    if (this.closed) throw closedError('cache', this.path);
    if (this.started) throw new ZookooperError('APIERROR', 'cache already started', this.path);
    this.started = true;
    this.zk.on('state', this.stateListener);
    if (this.sessionEnded()) throw this.endedError();
    const ready = this.whenLoaded();
    this.requestLoad();
    await ready;
  }

  /**
   * After session expiry: follow the server again through `newClient` (the old client is dead).
   * Re-reads everything and emits the differences against what the cache held; resolves after
   * 'resynced' (or 'initialized' if the first load never finished).
   */
  async rebuild(newClient: ZookooperClient): Promise<void> {
    if (this.closed) throw closedError('cache', this.path);
    this.zk.off('state', this.stateListener);
    this.generation++;
    this.latest.clear();
    this.zk = newClient;
    this._stale = false;
    this.wasDisconnected = false;
    this.zk.on('state', this.stateListener);
    const ready = this.whenLoaded();
    this.requestLoad();
    await ready;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.zk.off('state', this.stateListener);
    this.settleWaiters(closedError('cache', this.path));
    if (this.zk.state !== 'connected' && this.zk.state !== 'disconnected') return;
    // The client forgets the watcher locally at once; the server is told when connected. While
    // disconnected, do not make close() wait for a reconnect that may never come.
    const removing = this.zk.removeWatches(this.path, this.watcher, 'any');
    if (this.zk.state !== 'connected') {
      removing.catch(() => undefined);
      return;
    }
    try {
      await removing;
    } catch (err) {
      // NOWATCHER: never registered (closed during the first load); a lost connection: the client
      // forgot the watcher locally already, and the server drops it with the connection.
      if (!isCode(err, 'NOWATCHER') && !transient(err) && !isCode(err, 'SESSIONEXPIRED')) throw err;
    }
  }

  /** Reads the node set: register the watch, then read every node (subclass-specific). */
  protected abstract load(): Promise<void>;

  /** The watch registration, repeated at each load (the same watcher on the same path is kept once). */
  protected addWatch(): Promise<void> {
    return this.zk.addWatch(this.path, this.mode, this.watcher);
  }

  /** Lists children of `path` through the in-flight bound. */
  protected listChildren(path: string): Promise<string[]> {
    const zk = this.zk;
    return this.limiter.run(() => zk.getChildren(path));
  }

  protected get isFull(): boolean {
    return this.state.size >= this.state.nodesMax;
  }

  /**
   * Reads `path` and applies the outcome. Returns what the server said (null: no node), whether or
   * not it changed the cache; throws what the read threw (except NONODE).
   */
  protected async refresh(path: string): Promise<ChildData | null> {
    const id = ++this.readId;
    this.latest.set(path, id);
    const gen = this.generation;
    const zk = this.zk;
    let result: ChildData | null;
    try {
      const r = await this.limiter.run(() => zk.getData(path));
      result = { path, data: r.data, stat: r.stat };
    } catch (err) {
      if (!isCode(err, 'NONODE')) {
        if (this.latest.get(path) === id) this.latest.delete(path);
        throw err;
      }
      result = null;
    }
    if (gen !== this.generation || this.closed) return result;
    const latest = this.latest.get(path) === id;
    if (latest) this.latest.delete(path);
    const changes = this.state.apply(path, result, latest);
    if (changes === null) this.reportFull(path);
    else this.emitChanges(changes);
    return result;
  }

  /**
   * Applies what a write of ours returned (its data and stat), so the writer sees its own write at
   * once. Safe against reordering: as an older read it only moves a cached node forward.
   */
  protected applyWrite(node: ChildData): boolean {
    if (this.closed) return false;
    const changes = this.state.apply(node.path, node, false);
    if (changes === null || changes.length === 0) return false;
    this.emitChanges(changes);
    return true;
  }

  /** Which watch events mean "this node may differ now". */
  protected relevant(event: WatchedEvent): boolean {
    return event.type === 'created' || event.type === 'deleted' || event.type === 'dataChanged';
  }

  private onWatch(event: WatchedEvent): void {
    if (this.closed || this._stale) return;
    if (event.type === 'persistentWatchRemoved') {
      // Someone removed our watch (removeWatches with a null watcher): without it the cache would go
      // silently stale, so register it again through a load.
      this.requestLoad();
      return;
    }
    if (!this.relevant(event)) return;
    this.refresh(event.path).catch((err: unknown) => this.onReadError(err));
  }

  private onReadError(err: unknown): void {
    // A lost connection means a reconnect, whose re-read covers this path; an ended session is
    // reported through the state listener.
    if (transient(err) || isCode(err, 'SESSIONEXPIRED') || this.closed || this._stale) return;
    this.reportError(err instanceof Error ? err : new Error(String(err)));
  }

  private onClientState(s: ClientState): void {
    if (this.closed) return;
    if (s === 'disconnected') this.wasDisconnected = true;
    else if (s === 'connected' && this.wasDisconnected) {
      this.wasDisconnected = false;
      this.requestLoad();
    } else if (s === 'expired' || s === 'closed') {
      this.markStale();
    }
  }

  private sessionEnded(): boolean {
    return this.zk.state === 'expired' || this.zk.state === 'closed';
  }

  private endedError(): ZookooperError {
    return new ZookooperError('SESSIONEXPIRED', `cache of ${this.path}: client ${this.zk.state}; call rebuild(newClient)`, this.path);
  }

  private markStale(): void {
    if (this._stale) return;
    this._stale = true;
    const reason = this.endedError();
    this.settleWaiters(reason);
    this.safeEmit(() => this.emit('stale', reason));
  }

  private requestLoad(): void {
    this.loadWanted = true;
    if (!this.loading) void this.loadLoop();
  }

  /** Single flight: one load at a time; a request during a load runs another one after it. */
  private async loadLoop(): Promise<void> {
    this.loading = true;
    try {
      while (this.loadWanted && !this.closed && !this._stale) {
        this.loadWanted = false;
        const gen = this.generation;
        try {
          await this.load();
        } catch (err) {
          // A lost connection: the reconnect asks again. An ended session: stale until rebuild().
          if (this.sessionEnded()) this.markStale();
          if (transient(err) || isCode(err, 'SESSIONEXPIRED')) continue;
          const e = err instanceof Error ? err : new Error(String(err));
          this.reportError(e);
          this.settleWaiters(e);
          continue;
        }
        if (gen !== this.generation || this.loadWanted) continue;
        this.loaded();
      }
    } finally {
      this.loading = false;
    }
  }

  private loaded(): void {
    const first = !this._initialized;
    this._initialized = true;
    this.settleWaiters(null);
    this.safeEmit(() => this.emit(first ? 'initialized' : 'resynced'));
  }

  /**
   * A listener that throws must not break the cache's bookkeeping (or be mistaken for a read
   * failure): its exception surfaces as an uncaught error, as the client does for watchers.
   */
  private safeEmit(emit: () => void): void {
    try {
      emit();
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  private whenLoaded(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  private settleWaiters(err: Error | null): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) {
      if (err === null) w.resolve();
      else w.reject(err);
    }
  }

  private emitChanges(changes: readonly CacheChange[]): void {
    this.full = this.full && this.isFull;
    // Before 'initialized' the changes are the initial snapshot being filled in, not events.
    if (!this._initialized) return;
    for (const c of changes) {
      if (c.type === 'changed') this.safeEmit(() => this.emit('changed', c.node, c.previous));
      else if (c.type === 'created') this.safeEmit(() => this.emit('created', c.node));
      else this.safeEmit(() => this.emit('deleted', c.node));
    }
  }

  private reportFull(path: string): void {
    if (this.full) return; // once per episode, not once per node left out
    this.full = true;
    this.reportError(new ZookooperError('QUOTAEXCEEDED', `cache of ${this.path} holds nodesMax=${this.state.nodesMax} nodes; ${path} and later ones are left out`, path));
  }

  /** 'error' without a listener would throw from inside a watcher: keep it in lastError instead. */
  private reportError(err: Error): void {
    this._lastError = err;
    if (this.listenerCount('error') > 0) this.safeEmit(() => this.emit('error', err));
  }
}
