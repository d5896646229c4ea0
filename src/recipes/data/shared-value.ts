// SharedValue and SharedCount: Curator's recipes of the same names. A znode's bytes that every
// participant sees (kept current by a NodeCache) and can change with a versioned compare-and-set.
import { EventEmitter } from 'node:events';
import type { ZookooperClient } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import type { Data } from '../../common/types.js';
import { ensurePath, isCode } from '../util.js';
import { parentOf, type ChildData } from './cache-state.js';
import { closedError } from './errors.js';
import { NodeCache } from './node-cache.js';

export interface VersionedValue<T> {
  value: T;
  /** The znode's data version this value was read at; -1 while the node does not exist. */
  version: number;
}

export interface SharedValueEvents {
  /** Someone (this process included) changed the value. */
  change: [value: Buffer, version: number];
  /** The session ended; see NodeCache. rebuild(newClient) follows the value again. */
  stale: [reason: ZookooperError];
  error: [err: Error];
}

/** Attempts of setValue's create-or-set race with a concurrent delete/create: bounded, never loops. */
const setValueAttemptsMax = 5;

function toBuffer(data: Data): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export class SharedValue extends EventEmitter<SharedValueEvents> {
  private readonly cache: NodeCache;
  private readonly seed: Buffer;
  private started = false;
  private closed = false;
  private lastValue: Buffer | undefined; // the value before a delete (or close), so getValue() still answers

  /** `seedValue` is written if the node does not exist when start() runs (as Curator's seed). */
  constructor(
    private readonly zk: ZookooperClient,
    readonly path: string,
    seedValue: Data,
  ) {
    super();
    this.seed = toBuffer(seedValue);
    this.cache = new NodeCache(zk, path);
    const onNode = (node: ChildData): void => {
      this.emit('change', node.data, node.stat.version);
    };
    this.cache.on('created', onNode);
    this.cache.on('changed', onNode);
    this.cache.on('deleted', (node) => (this.lastValue = node.data));
    this.cache.on('stale', (reason) => this.emit('stale', reason));
    this.cache.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  /** Creates the node with the seed if missing, then reads and follows it. */
  async start(): Promise<void> {
    if (this.closed) throw closedError('shared value', this.path);
    if (this.started) throw new ZookooperError('APIERROR', 'shared value already started', this.path);
    this.started = true;
    await ensurePath(this.zk, parentOf(this.path));
    try {
      await this.zk.create(this.path, this.seed);
    } catch (err) {
      if (!isCode(err, 'NODEEXISTS')) throw err;
    }
    await this.cache.start();
  }

  /** The current value as last seen (the seed before start(); the last value if the node was deleted). */
  getValue(): Buffer {
    return this.getVersionedValue().value;
  }

  getVersionedValue(): VersionedValue<Buffer> {
    const node = this.cache.current;
    if (node !== null) return { value: node.data, version: node.stat.version };
    return { value: this.lastValue ?? this.seed, version: -1 };
  }

  /** Whether the node exists (as last seen). */
  get exists(): boolean {
    return this.cache.current !== null;
  }

  /** Sets the value whatever the current version (re-creating the node if it was deleted). */
  async setValue(newValue: Data): Promise<void> {
    this.checkOpen();
    const bytes = toBuffer(newValue);
    for (let attempt = 1; ; attempt++) {
      try {
        const stat = await this.zk.setData(this.path, bytes);
        this.noteWrite(bytes, stat);
        return;
      } catch (err) {
        if (!isCode(err, 'NONODE') || attempt >= setValueAttemptsMax) throw err;
      }
      try {
        await this.zk.create(this.path, bytes);
        await this.cache.rebuildNow();
        return;
      } catch (err) {
        if (!isCode(err, 'NODEEXISTS') || attempt >= setValueAttemptsMax) throw err;
      }
    }
  }

  /**
   * Compare-and-set: writes `newValue` only if the node's version is still `expectedVersion` (from
   * getVersionedValue()). Returns false if another writer got there first (BADVERSION); the cache
   * then brings the newer value. NONODE (the node was deleted) is thrown.
   */
  async trySetValue(newValue: Data, expectedVersion: number): Promise<boolean> {
    this.checkOpen();
    const bytes = toBuffer(newValue);
    try {
      const stat = await this.zk.setData(this.path, bytes, expectedVersion);
      this.noteWrite(bytes, stat);
      return true;
    } catch (err) {
      if (isCode(err, 'BADVERSION')) return false;
      throw err;
    }
  }

  /** After session expiry: follow the value through a new client. */
  async rebuild(newClient: ZookooperClient): Promise<void> {
    await this.cache.rebuild(newClient);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lastValue = this.cache.current?.data;
    await this.cache.close();
  }

  private noteWrite(data: Buffer, stat: ChildData['stat']): void {
    // The writer sees its own write at once (the watch event's re-read confirms it later).
    if (this.cache.noteWrite({ path: this.path, data, stat })) return;
    const seen = this.cache.current;
    // Not applied because the node is not cached (re-created): read it. Already seen: nothing to do.
    if (seen === null || seen.stat.mzxid < stat.mzxid) void this.cache.rebuildNow().catch(() => undefined);
  }

  private checkOpen(): void {
    if (this.closed) throw closedError('shared value', this.path);
  }
}

/** SharedCount: a SharedValue holding a 32-bit signed integer, 4 bytes big-endian (Curator's format). */
export interface SharedCountEvents {
  change: [count: number, version: number];
  stale: [reason: ZookooperError];
  error: [err: Error];
}

export function encodeCount(n: number): Buffer {
  if (!Number.isInteger(n) || n < -0x8000_0000 || n > 0x7fff_ffff) throw new ZookooperError('BADARGUMENTS', `a shared count is a 32-bit integer, got ${n}`);
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

export function decodeCount(data: Buffer, path: string): number {
  if (data.length !== 4) throw new ZookooperError('MARSHALLINGERROR', `a shared count is 4 bytes, ${path} holds ${data.length}`, path);
  return data.readInt32BE(0);
}

export class SharedCount extends EventEmitter<SharedCountEvents> {
  private readonly value: SharedValue;

  constructor(zk: ZookooperClient, readonly path: string, seedCount: number) {
    super();
    this.value = new SharedValue(zk, path, encodeCount(seedCount));
    this.value.on('change', (data, version) => {
      let count: number;
      try {
        count = decodeCount(data, path);
      } catch (err) {
        if (this.listenerCount('error') > 0) this.emit('error', err as Error);
        return;
      }
      this.emit('change', count, version);
    });
    this.value.on('stale', (reason) => this.emit('stale', reason));
    this.value.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  start(): Promise<void> {
    return this.value.start();
  }
  getCount(): number {
    return decodeCount(this.value.getValue(), this.path);
  }
  getVersionedValue(): VersionedValue<number> {
    const v = this.value.getVersionedValue();
    return { value: decodeCount(v.value, this.path), version: v.version };
  }
  async setCount(newCount: number): Promise<void> {
    return this.value.setValue(encodeCount(newCount));
  }
  async trySetCount(newCount: number, expectedVersion: number): Promise<boolean> {
    return this.value.trySetValue(encodeCount(newCount), expectedVersion);
  }
  rebuild(newClient: ZookooperClient): Promise<void> {
    return this.value.rebuild(newClient);
  }
  close(): Promise<void> {
    return this.value.close();
  }
}
