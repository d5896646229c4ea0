// DistributedAtomicLong (Curator's recipe of that name) and AtomicCounter (the same with JS
// numbers). A 64-bit signed integer stored as 8 bytes big-endian (Curator's format: the two
// interoperate), changed by optimistic compare-and-set: read value+version, write with that
// version, and on BADVERSION (another writer got in between) back off and try again, a bounded
// number of times. Arithmetic wraps at 64 bits as Java's long does.
import type { ZookooperClient } from '../../client/index.js';
import { ZookooperError } from '../../common/errors.js';
import { ensurePath, isCode } from '../util.js';
import { parentOf } from './cache-state.js';
import { AtomicRetriesExhaustedError } from './errors.js';
import { dataLimits } from './limits.js';

/** Curator's AtomicValue: whether the operation took effect, the value before and after it. */
export interface AtomicValue<T> {
  succeeded: boolean;
  preValue: T;
  postValue: T;
}

export interface AtomicOptions {
  /** Compare-and-set attempts per operation (default dataLimits.atomicAttemptsMax). */
  attemptsMax?: number;
  /** Backoff between attempts: doubles from min to max, each pause jittered to [half, full]. */
  backoffMsMin?: number;
  backoffMsMax?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function encodeLong(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt.asIntN(64, n));
  return b;
}

/** Empty data (a node made by ensurePath or by hand) counts as 0, as a missing node does. */
export function decodeLong(data: Buffer, path: string): bigint {
  if (data.length === 0) return 0n;
  if (data.length !== 8) throw new ZookooperError('MARSHALLINGERROR', `an atomic long is 8 bytes, ${path} holds ${data.length}`, path);
  return data.readBigInt64BE(0);
}

interface Current {
  value: bigint;
  version: number | null; // null: no node yet
}

export class DistributedAtomicLong {
  private readonly attemptsMax: number;
  private readonly backoffMsMin: number;
  private readonly backoffMsMax: number;

  constructor(
    private readonly zk: ZookooperClient,
    readonly path: string,
    opts: AtomicOptions = {},
  ) {
    this.attemptsMax = opts.attemptsMax ?? dataLimits.atomicAttemptsMax;
    this.backoffMsMin = opts.backoffMsMin ?? dataLimits.atomicBackoffMsMin;
    this.backoffMsMax = opts.backoffMsMax ?? dataLimits.atomicBackoffMsMax;
    if (!Number.isInteger(this.attemptsMax) || this.attemptsMax < 1) throw new ZookooperError('BADARGUMENTS', `attemptsMax must be a positive integer, got ${this.attemptsMax}`);
    if (!(this.backoffMsMin >= 0 && this.backoffMsMin <= this.backoffMsMax)) throw new ZookooperError('BADARGUMENTS', 'backoff bounds must satisfy 0 <= min <= max');
  }

  /** The current value (0 if the node does not exist); always succeeded. */
  async get(): Promise<AtomicValue<bigint>> {
    const cur = await this.read();
    return { succeeded: true, preValue: cur.value, postValue: cur.value };
  }

  increment(): Promise<AtomicValue<bigint>> {
    return this.add(1n);
  }
  decrement(): Promise<AtomicValue<bigint>> {
    return this.add(-1n);
  }
  async subtract(delta: bigint | number): Promise<AtomicValue<bigint>> {
    return this.add(-BigInt(delta));
  }
  async add(delta: bigint | number): Promise<AtomicValue<bigint>> {
    const d = BigInt(delta);
    return this.modify((v) => v + d);
  }

  /** Sets `newValue` whatever the current value (optimistically, so concurrent adds are not lost). */
  async trySet(newValue: bigint | number): Promise<AtomicValue<bigint>> {
    const n = BigInt(newValue);
    return this.modify(() => n);
  }

  /**
   * Sets `newValue` only if the current value equals `expected`; succeeded false (and pre = post =
   * the current value) if it does not. A lost race with a writer that left the value equal to
   * `expected` is retried, so a false means the value really differed.
   */
  async compareAndSet(expected: bigint | number, newValue: bigint | number): Promise<AtomicValue<bigint>> {
    const e = BigInt.asIntN(64, BigInt(expected));
    const n = BigInt(newValue);
    return this.modify((v) => (v === e ? n : null));
  }

  /** Writes `newValue` unconditionally (no read; Curator's forceSet). */
  async forceSet(newValue: bigint | number): Promise<void> {
    const bytes = encodeLong(BigInt(newValue));
    try {
      await this.zk.setData(this.path, bytes);
    } catch (err) {
      if (!isCode(err, 'NONODE')) throw err;
      if (!(await this.createWith(bytes))) await this.zk.setData(this.path, bytes);
    }
  }

  /** Creates the node with `value` if it does not exist; false if it already did (Curator's initialize). */
  async initialize(value: bigint | number): Promise<boolean> {
    return this.createWith(encodeLong(BigInt(value)));
  }

  /**
   * The optimistic loop. `next` maps the current value to the one to write, or null to stop
   * without writing. CONNECTIONLOSS on the write is thrown, not retried: the write may have been
   * applied, and applying it again would count twice (Curator leaves this to the caller too).
   */
  private async modify(next: (current: bigint) => bigint | null): Promise<AtomicValue<bigint>> {
    for (let attempt = 1; attempt <= this.attemptsMax; attempt++) {
      const cur = await this.read();
      const wanted = next(cur.value);
      if (wanted === null) return { succeeded: false, preValue: cur.value, postValue: cur.value };
      const post = BigInt.asIntN(64, wanted);
      const bytes = encodeLong(post);
      if (cur.version === null) {
        if (await this.createWith(bytes)) return { succeeded: true, preValue: cur.value, postValue: post };
      } else {
        try {
          await this.zk.setData(this.path, bytes, cur.version);
          return { succeeded: true, preValue: cur.value, postValue: post };
        } catch (err) {
          // BADVERSION: someone wrote in between; NONODE: someone deleted it. Both: read again.
          if (!isCode(err, 'BADVERSION') && !isCode(err, 'NONODE')) throw err;
        }
      }
      if (attempt < this.attemptsMax) await sleep(this.backoffMs(attempt));
    }
    throw new AtomicRetriesExhaustedError(this.attemptsMax, this.path);
  }

  private backoffMs(attempt: number): number {
    const full = Math.min(this.backoffMsMax, this.backoffMsMin * 2 ** Math.min(attempt - 1, 20));
    return full * (0.5 + Math.random() / 2); // jitter: contenders that collided do not collide again in step
  }

  /** Reads value and version; a read is idempotent, so CONNECTIONLOSS is retried (bounded). */
  private async read(): Promise<Current> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { data, stat } = await this.zk.getData(this.path);
        return { value: decodeLong(data, this.path), version: stat.version };
      } catch (err) {
        if (isCode(err, 'NONODE')) return { value: 0n, version: null };
        if (!isCode(err, 'CONNECTIONLOSS') || attempt >= dataLimits.connectionLossAttemptsMax) throw err;
      }
    }
  }

  /** Creates the node (and its parents); false if it exists already. */
  private async createWith(bytes: Buffer): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.zk.create(this.path, bytes);
        return true;
      } catch (err) {
        if (isCode(err, 'NODEEXISTS')) return false;
        // NONODE: the parent is missing; make it once, then try again.
        if (!isCode(err, 'NONODE') || attempt >= 2) throw err;
        await ensurePath(this.zk, parentOf(this.path));
      }
    }
  }
}

function toNumber(v: bigint, path: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ZookooperError('MARSHALLINGERROR', `${path} holds ${v}, beyond a safe JS integer: use DistributedAtomicLong`, path);
  }
  return Number(v);
}

function toNumbers(r: AtomicValue<bigint>, path: string): AtomicValue<number> {
  return { succeeded: r.succeeded, preValue: toNumber(r.preValue, path), postValue: toNumber(r.postValue, path) };
}

function safeInt(n: number, name: string): bigint {
  if (!Number.isSafeInteger(n)) throw new ZookooperError('BADARGUMENTS', `${name} must be a safe integer, got ${n}`);
  return BigInt(n);
}

/** DistributedAtomicLong with JS numbers (safe integers); same node format. */
export class AtomicCounter {
  private readonly long: DistributedAtomicLong;

  constructor(zk: ZookooperClient, readonly path: string, opts: AtomicOptions = {}) {
    this.long = new DistributedAtomicLong(zk, path, opts);
  }

  async get(): Promise<AtomicValue<number>> {
    return toNumbers(await this.long.get(), this.path);
  }
  async increment(): Promise<AtomicValue<number>> {
    return toNumbers(await this.long.increment(), this.path);
  }
  async decrement(): Promise<AtomicValue<number>> {
    return toNumbers(await this.long.decrement(), this.path);
  }
  async add(delta: number): Promise<AtomicValue<number>> {
    return toNumbers(await this.long.add(safeInt(delta, 'delta')), this.path);
  }
  async subtract(delta: number): Promise<AtomicValue<number>> {
    return toNumbers(await this.long.subtract(safeInt(delta, 'delta')), this.path);
  }
  async compareAndSet(expected: number, newValue: number): Promise<AtomicValue<number>> {
    return toNumbers(await this.long.compareAndSet(safeInt(expected, 'expected'), safeInt(newValue, 'newValue')), this.path);
  }
  async trySet(newValue: number): Promise<AtomicValue<number>> {
    return toNumbers(await this.long.trySet(safeInt(newValue, 'newValue')), this.path);
  }
  async forceSet(newValue: number): Promise<void> {
    return this.long.forceSet(safeInt(newValue, 'newValue'));
  }
  async initialize(value: number): Promise<boolean> {
    return this.long.initialize(safeInt(value, 'value'));
  }
}
