// DistributedQueue and DistributedPriorityQueue: Curator's recipes of those names.
//
// Items are persistent-sequential children of the queue node, so the server's sequence numbers
// give the FIFO order. A consumer takes the first item by deleting it, and ONLY the consumer whose
// delete succeeded gets it: the delete is a multi that also creates an ephemeral claim node
// `claim-<item>`. The claim makes the outcome knowable when the connection drops during the
// multi (the answer is lost, the delete may or may not have happened): after the reconnect the
// consumer looks for its claim, owned by its session, instead of guessing. So an item is handed to
// exactly one take(), even across a lost connection; it is lost only if the consumer's session
// expires between the multi and reading its claim (the claim then vanishes with the session, and the
// item with it: at-most-once, as Curator's queue without a lock).
//
// put() is not retried on CONNECTIONLOSS: the create may have happened, and a retry would enqueue
// the item twice. The caller decides (the error says CONNECTIONLOSS).
import { randomUUID } from 'node:crypto';
import type { ZookooperClient, ClientState } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import type { Data } from '../../common/types.js';
import { deleteIfExists, ensurePath, isCode, sortBySequence } from '../util.js';
import { joinPath } from './cache-state.js';
import { closedError } from './errors.js';
import { dataLimits } from './limits.js';

export interface QueueSerializer<T> {
  serialize(item: T): Data;
  deserialize(bytes: Buffer): T;
}

export interface QueueOptions<T> {
  /** How items become bytes; default: items are the bytes (Buffer out, Uint8Array/string in). */
  serializer?: QueueSerializer<T>;
  /**
   * put() refuses with QUOTAEXCEEDED while the queue node has this many children (default
   * dataLimits.queueItemsMax). A soft bound: puts racing each other may overshoot by their number.
   */
  itemsMax?: number;
}

const itemPrefix = 'qn-';
const priorityPrefix = 'qp-';
const claimPrefix = 'claim-';
const none = Symbol('none');

/** The identity serializer: Buffer items. */
export const bytesSerializer: QueueSerializer<Buffer> = {
  serialize: (item) => item,
  deserialize: (bytes) => bytes,
};

/** Items as JSON text (convenient for plain objects; the parse result is trusted as T). */
export function jsonSerializer<T>(): QueueSerializer<T> {
  return {
    serialize: (item) => JSON.stringify(item),
    deserialize: (bytes) => JSON.parse(bytes.toString('utf8')) as T,
  };
}

function deadlineOf(timeoutMs: number | undefined): number | null {
  if (timeoutMs === undefined) return null;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > dataLimits.timeoutMsMax) {
    throw new ZookooperError('BADARGUMENTS', `timeoutMs must be in [0, ${dataLimits.timeoutMsMax}], got ${timeoutMs}`);
  }
  return Date.now() + timeoutMs;
}

abstract class QueueBase<T> {
  private readonly serializer: QueueSerializer<T>;
  private readonly itemsMax: number;
  private parentReady = false;
  private closed = false;
  /** take() calls waiting for the queue to change; one child watcher wakes them all. */
  private readonly waiters = new Set<() => void>();
  private readonly childWatcher = (): void => this.wakeAll();
  private readonly stateListener = (s: ClientState): void => {
    // A waiting take() must not sleep through the end of its session: wake it to see the error.
    if (s === 'expired' || s === 'closed') this.wakeAll();
  };

  constructor(
    protected readonly zk: ZookooperClient,
    readonly path: string,
    opts: QueueOptions<T>,
  ) {
    // Without a serializer T is Buffer (the class default); TypeScript cannot tie the default
    // type argument to the missing option, hence the cast.
    this.serializer = opts.serializer ?? (bytesSerializer as unknown as QueueSerializer<T>);
    this.itemsMax = opts.itemsMax ?? dataLimits.queueItemsMax;
    if (!Number.isInteger(this.itemsMax) || this.itemsMax < 1) throw new ZookooperError('BADARGUMENTS', `itemsMax must be a positive integer, got ${this.itemsMax}`);
    zk.on('state', this.stateListener);
  }

  /** Item names in the order they are to be taken. */
  protected abstract order(names: string[]): string[];

  protected async putNamed(prefix: string, item: T): Promise<string> {
    this.checkOpen();
    const bytes = this.serializer.serialize(item);
    await this.ensureParent();
    const count = await this.zk.getAllChildrenNumber(this.path);
    if (count >= this.itemsMax) throw new ZookooperError('QUOTAEXCEEDED', `queue ${this.path} holds itemsMax=${this.itemsMax} items`, this.path);
    return this.zk.create(joinPath(this.path, prefix), bytes, { mode: 'persistent_sequential' });
  }

  /**
   * Removes and returns the first item, waiting for one up to `timeoutMs` (forever if undefined);
   * undefined if none came in time. Each item goes to exactly one take() across all consumers.
   */
  async take(timeoutMs?: number): Promise<T | undefined> {
    const deadline = deadlineOf(timeoutMs);
    await this.ensureParent();
    // Every round returns an item, waits for a change, or saw every listed item go to other
    // consumers (progress elsewhere). Only that last kind is counted, and only in a row.
    for (let lostRounds = 0; lostRounds < dataLimits.queueTakeLostRoundsMax; ) {
      this.checkOpen();
      let wake!: () => void;
      const changed = new Promise<void>((resolve) => (wake = resolve));
      // Registered before listing, so a change after the listing cannot slip past the wait below.
      this.waiters.add(wake);
      try {
        const names = this.order(await this.listItems(true));
        for (const name of names) {
          const got = await this.tryConsume(name);
          if (got !== none) return got;
        }
        // All gone to other consumers: list again at once. Empty: wait for a change.
        if (names.length > 0) {
          lostRounds++;
          if (deadline !== null && Date.now() >= deadline) return undefined;
          continue;
        }
        lostRounds = 0;
        if (!(await this.waitFor(changed, deadline))) return undefined;
      } finally {
        this.waiters.delete(wake);
      }
    }
    // Retryable: starved by other consumers, not a failure of the queue.
    throw new ZookooperError('OPERATIONTIMEOUT', `take on ${this.path}: other consumers took every item, ${dataLimits.queueTakeLostRoundsMax} listings in a row`, this.path);
  }

  /** take() without waiting: the first item, or undefined if the queue is empty. */
  poll(): Promise<T | undefined> {
    return this.take(0);
  }

  /** The first item without removing it, or undefined if the queue is empty. */
  async peek(): Promise<T | undefined> {
    this.checkOpen();
    for (const name of this.order(await this.listItems(false))) {
      try {
        const { data } = await this.zk.getData(joinPath(this.path, name));
        return this.decode(data, name);
      } catch (err) {
        if (!isCode(err, 'NONODE')) throw err; // taken meanwhile: the next one
      }
    }
    return undefined;
  }

  /** Items in the queue now. */
  async size(): Promise<number> {
    return (await this.listItems(false)).length;
  }

  /** Stops the queue: waiting take() calls fail with APIERROR. Items stay in ZooKeeper. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.zk.off('state', this.stateListener);
    this.wakeAll();
    if (this.zk.state !== 'connected') return;
    try {
      await this.zk.removeWatches(this.path, this.childWatcher, 'children');
    } catch (err) {
      if (!isCode(err, 'NOWATCHER') && !isCode(err, 'CONNECTIONLOSS')) throw err;
    }
  }

  private async listItems(watch: boolean): Promise<string[]> {
    let names: string[];
    try {
      names = await this.zk.getChildren(this.path, watch ? { watch: this.childWatcher } : {});
    } catch (err) {
      if (!isCode(err, 'NONODE')) throw err;
      return [];
    }
    return names.filter((n) => n.startsWith(itemPrefix) || n.startsWith(priorityPrefix));
  }

  /** Deletes `name` and claims it in one multi; returns the item if this consumer's delete won. */
  private async tryConsume(name: string): Promise<T | typeof none> {
    const itemPath = joinPath(this.path, name);
    const claimPath = joinPath(this.path, claimPrefix + name);
    let data: Buffer;
    try {
      data = (await this.zk.getData(itemPath)).data;
    } catch (err) {
      if (isCode(err, 'NONODE')) return none;
      throw err;
    }
    const won = await this.claim(itemPath, claimPath);
    if (!won) return none;
    try {
      await deleteIfExists(this.zk, claimPath);
    } catch (err) {
      // The claim is ephemeral: if it cannot go now it goes with the session. The item is ours.
      if (!isCode(err, 'CONNECTIONLOSS')) throw err;
    }
    return this.decode(data, name);
  }

  private async claim(itemPath: string, claimPath: string): Promise<boolean> {
    // The token tells this take() apart from another take() on the same session (same client).
    const token = randomUUID();
    for (let attempt = 1; attempt <= dataLimits.connectionLossAttemptsMax; attempt++) {
      try {
        await this.zk.multi([
          { op: 'delete', path: itemPath },
          { op: 'create', path: claimPath, data: token, mode: 'ephemeral' },
        ]);
        return true;
      } catch (err) {
        if (isCode(err, 'NONODE') || isCode(err, 'NODEEXISTS')) return false; // another consumer's
        if (!isCode(err, 'CONNECTIONLOSS')) throw err;
      }
      // The answer was lost. Our claim (our token) says the multi happened.
      const claim = await this.retryRead(() => this.readClaim(claimPath));
      if (claim !== null) return claim === token;
      if ((await this.retryRead(() => this.zk.exists(itemPath))) === null) return false;
      // Neither: the multi never ran. Try again.
    }
    throw new ZookooperError('CONNECTIONLOSS', `could not take ${itemPath}: connection lost ${dataLimits.connectionLossAttemptsMax} times`, itemPath);
  }

  private async readClaim(claimPath: string): Promise<string | null> {
    try {
      return (await this.zk.getData(claimPath)).data.toString('utf8');
    } catch (err) {
      if (isCode(err, 'NONODE')) return null;
      throw err;
    }
  }

  private async retryRead<R>(read: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await read();
      } catch (err) {
        if (!isCode(err, 'CONNECTIONLOSS') || attempt >= dataLimits.connectionLossAttemptsMax) throw err;
      }
    }
  }

  private decode(data: Buffer, name: string): T {
    try {
      return this.serializer.deserialize(data);
    } catch (err) {
      const e = new ZookooperError('MARSHALLINGERROR', `queue item ${name} did not deserialize: ${err instanceof Error ? err.message : String(err)}`, joinPath(this.path, name));
      e.cause = err;
      throw e;
    }
  }

  /** Resolves true when `changed` fires, false at the deadline. */
  private async waitFor(changed: Promise<void>, deadline: number | null): Promise<boolean> {
    if (deadline === null) {
      await changed;
      return true;
    }
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), left)));
    try {
      return await Promise.race([changed.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  private async ensureParent(): Promise<void> {
    if (this.parentReady) return;
    await ensurePath(this.zk, this.path);
    this.parentReady = true;
  }

  private checkOpen(): void {
    if (this.closed) throw closedError('queue', this.path);
    if (this.zk.state === 'expired' || this.zk.state === 'closed') throw new ZookooperError('SESSIONEXPIRED', `queue ${this.path}: client ${this.zk.state}`, this.path);
  }
}

/** FIFO: items are taken in the order their put() was applied by the server. */
export class DistributedQueue<T = Buffer> extends QueueBase<T> {
  constructor(zk: ZookooperClient, path: string, opts: QueueOptions<T> = {}) {
    super(zk, path, opts);
  }

  /** Enqueues `item`; returns its node's path. */
  put(item: T): Promise<string> {
    return this.putNamed(itemPrefix, item);
  }

  protected order(names: string[]): string[] {
    return sortBySequence(names.filter((n) => n.startsWith(itemPrefix)));
  }
}

export const priorityMin = -0x8000_0000;
export const priorityMax = 0x7fff_ffff;

/**
 * The priority as 8 hex digits that sort as the number does: offset by 2^31 so negatives come
 * first. Lower numbers are taken first (Curator: "the lower the number, the higher the priority").
 */
export function encodePriority(priority: number): string {
  if (!Number.isInteger(priority) || priority < priorityMin || priority > priorityMax) {
    throw new ZookooperError('BADARGUMENTS', `priority must be a 32-bit integer, got ${priority}`);
  }
  return (priority - priorityMin).toString(16).padStart(8, '0');
}

/** Items taken by priority (lowest number first), FIFO within a priority. */
export class DistributedPriorityQueue<T = Buffer> extends QueueBase<T> {
  constructor(zk: ZookooperClient, path: string, opts: QueueOptions<T> = {}) {
    super(zk, path, opts);
  }

  /** Enqueues `item` with `priority` (a 32-bit integer; lower is taken first). */
  async put(item: T, priority: number): Promise<string> {
    return this.putNamed(`${priorityPrefix}${encodePriority(priority)}-`, item);
  }

  /** Names are `qp-<8 hex priority>-<10 digit sequence>`: as strings they sort by priority, then sequence. */
  protected order(names: string[]): string[] {
    return names.filter((n) => n.startsWith(priorityPrefix)).sort();
  }
}
