// watchConfig: a typed configuration value kept current from one znode. Built on NodeCache, so it
// follows reconnects (re-read, differences only) and reports session expiry as 'stale'.
//
// Rules:
//   - node missing (at start or deleted later): the value is `initial` (undefined if not given);
//   - bytes that fail to parse: the last good value stays, 'error' gets a ConfigParseError (kept
//     in lastError when nobody listens, so a bad push cannot crash the process);
//   - every change of the value goes to 'change' listeners and to each change iterator.
import { EventEmitter } from 'node:events';
import type { ZookooperClient } from '../../client/index.js';
import type { ZookooperError } from '../../common/errors.js';
import type { ChildData } from './cache-state.js';
import { ConfigParseError } from './errors.js';
import { dataLimits } from './limits.js';
import { NodeCache } from './node-cache.js';

export interface ConfigOptions<T> {
  /** The value while the node does not exist. */
  initial?: T;
  /** Values a change iterator buffers for a slow reader (oldest dropped beyond it). */
  iteratorBufferMax?: number;
}

export interface ConfigChange<T> {
  value: T | undefined;
  previous: T | undefined;
  /** The node's data version the value came from; -1 when the node is missing. */
  version: number;
}

export interface ConfigWatchEvents<T> {
  change: [change: ConfigChange<T>];
  error: [err: Error];
  stale: [reason: ZookooperError];
}

interface Subscriber<T> {
  buffer: ConfigChange<T>[];
  wake: (() => void) | null;
  dropped: number;
}

export class ConfigWatch<T> extends EventEmitter<ConfigWatchEvents<T>> {
  private value: T | undefined;
  private _version = -1;
  private _lastError: Error | null = null;
  private closed = false;
  private readonly subscribers = new Set<Subscriber<T>>();
  private readonly bufferMax: number;

  constructor(
    private readonly cache: NodeCache,
    private readonly parse: (data: Buffer) => T,
    private readonly opts: ConfigOptions<T>,
  ) {
    super();
    this.value = opts.initial;
    this.bufferMax = opts.iteratorBufferMax ?? dataLimits.configIteratorBufferMax;
    cache.on('created', (node) => this.onNode(node));
    cache.on('changed', (node) => this.onNode(node));
    cache.on('deleted', () => this.set(this.opts.initial, -1));
    cache.on('stale', (reason) => this.emit('stale', reason));
    cache.on('error', (err) => this.reportError(err));
  }

  /** The current typed value (`initial` while the node is missing). */
  get current(): T | undefined {
    return this.value;
  }
  /** The data version `current` was parsed from; -1 when it is `initial`. */
  get version(): number {
    return this._version;
  }
  /** The last parse or read error (also when no 'error' listener was attached). */
  get lastError(): Error | null {
    return this._lastError;
  }
  get stale(): boolean {
    return this.cache.stale;
  }

  /** Called once after the cache's first load (no event: the caller reads `current`). */
  loadInitial(): void {
    const node = this.cache.current;
    if (node === null) return;
    const parsed = this.tryParse(node);
    if (parsed.ok) {
      this.value = parsed.value;
      this._version = node.stat.version;
    }
  }

  /** Changes from now on, until close() (or the iterator's return()). */
  changes(): AsyncIterableIterator<ConfigChange<T>> {
    const sub: Subscriber<T> = { buffer: [], wake: null, dropped: 0 };
    this.subscribers.add(sub);
    const done = (): IteratorResult<ConfigChange<T>> => {
      this.subscribers.delete(sub);
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<ConfigChange<T>> = {
      next: async () => {
        for (;;) {
          const item = sub.buffer.shift();
          if (item !== undefined) return { done: false, value: item };
          if (this.closed || !this.subscribers.has(sub)) return done();
          await new Promise<void>((resolve) => (sub.wake = resolve));
          sub.wake = null;
        }
      },
      return: async () => done(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ConfigChange<T>> {
    return this.changes();
  }

  /** After session expiry: follow the node through a new client. */
  rebuild(newClient: ZookooperClient): Promise<void> {
    return this.cache.rebuild(newClient);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const sub of this.subscribers) sub.wake?.();
    await this.cache.close();
  }

  private onNode(node: ChildData): void {
    const parsed = this.tryParse(node);
    if (parsed.ok) this.set(parsed.value, node.stat.version);
  }

  private tryParse(node: ChildData): { ok: true; value: T } | { ok: false } {
    try {
      return { ok: true, value: this.parse(node.data) };
    } catch (err) {
      this.reportError(new ConfigParseError(node.path, err));
      return { ok: false };
    }
  }

  private set(value: T | undefined, version: number): void {
    const change: ConfigChange<T> = { value, previous: this.value, version };
    this.value = value;
    this._version = version;
    for (const sub of this.subscribers) {
      sub.buffer.push(change);
      if (sub.buffer.length > this.bufferMax) {
        sub.buffer.shift(); // a slow reader wants the latest config, not every step
        sub.dropped++;
      }
      sub.wake?.();
    }
    this.emit('change', change);
  }

  private reportError(err: Error): void {
    this._lastError = err;
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/**
 * Follows the znode at `path` as a typed value. Resolves once the first read is done: `current`
 * is then the parsed value (or `initial` if the node is missing or its bytes fail to parse; see
 * lastError).
 */
export async function watchConfig<T>(zk: ZookooperClient, path: string, parse: (data: Buffer) => T, opts: ConfigOptions<T> = {}): Promise<ConfigWatch<T>> {
  const cache = new NodeCache(zk, path);
  const watch = new ConfigWatch<T>(cache, parse, opts);
  try {
    await cache.start();
  } catch (err) {
    await cache.close().catch(() => undefined);
    throw err;
  }
  watch.loadInitial();
  return watch;
}
