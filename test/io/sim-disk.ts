// A simulated Disk for seeded crash tests: files in memory, written and durable data kept apart.
//
//   const disk = new SimDisk(seed);
//   ... run storage code on `disk` ...
//   disk.crash();        // power loss: only what was fsynced survives (plus a seeded torn prefix)
//   ... recover from `disk` ...
//
// Model (native-notes/fsync.md, FoundationDB's AsyncFileNonDurable):
//   - every file (inode) has `data` (what reads see: the page cache) and `durable` (what a crash
//     leaves). write() and truncate() change `data` and queue an unsynced op; datasync()/sync()
//     apply the queued ops to `durable` (so after a failed sync dropped them, data and durable
//     differ for good).
//   - names live in directories: `live` (what list/open see) and `durable` (what a crash
//     leaves). create, rename and unlink change `live`; fsyncDir(dir) copies dir's live entries
//     to durable. mkdir is a name in its parent like any other.
//   - crash(): names go back to their durable state; each surviving file to `durable`, then a
//     seeded number of its unsynced ops re-applied in order, the last of them possibly torn (a
//     seeded prefix of its bytes). Ops are never reordered: this models a prefix-preserving
//     device (kill -9 on Linux), not a drive that reorders sectors.
//   - faults: injectFault({ op, pathIncludes, count }) fails the next `count` matching calls with
//     EIO, then heals. A failed sync drops the file's unsynced ops without making them durable
//     (Linux marks the dirty pages clean): a later sync then "succeeds" while a crash still loses
//     the data — exactly why the log must stop at the first failure (ZOOKEEPER-4882).
// Every call is synchronous underneath; the async methods return settled promises, so a
// simulation stays deterministic.
import { dirname, normalize } from 'node:path';
import type { Disk, DiskFile, OpenMode } from '../../src/io/disk.js';

type UnsyncedOp = { kind: 'write'; position: number; bytes: Bytes } | { kind: 'truncate'; size: number };

type Bytes = Buffer<ArrayBufferLike>;

class Inode {
  data: Bytes = Buffer.alloc(0);
  durable: Bytes = Buffer.alloc(0);
  unsynced: UnsyncedOp[] = [];
}

type Entry = { kind: 'file'; inode: Inode } | { kind: 'dir' };

export type FaultOp = 'write' | 'sync' | 'fsyncDir' | 'rename' | 'unlink' | 'open' | 'truncate';

export interface Fault {
  op: FaultOp;
  /** Only calls on a path containing this string. */
  pathIncludes?: string;
  /** Calls that fail before the fault heals (default 1). */
  count?: number;
}

export interface CrashOptions {
  /** 'none': every unsynced op is lost; 'prefix' (default): a seeded prefix of them survives. */
  unsynced?: 'none' | 'prefix';
}

export class SimDiskError extends Error {
  constructor(
    readonly code: string,
    op: string,
    path: string,
  ) {
    super(`${code}: ${op} '${path}'`);
  }
}

/** mulberry32, as the storage tests' prng. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function applyOp(buf: Bytes, op: UnsyncedOp, tornBytes?: number): Bytes {
  if (op.kind === 'truncate') return resize(buf, op.size);
  const bytes = tornBytes === undefined ? op.bytes : op.bytes.subarray(0, tornBytes);
  const end = op.position + bytes.length;
  const out = end > buf.length ? resize(buf, end) : buf;
  bytes.copy(out, op.position);
  return out;
}

function resize(buf: Bytes, size: number): Bytes {
  if (size <= buf.length) return Buffer.from(buf.subarray(0, size));
  const out = Buffer.alloc(size);
  buf.copy(out);
  return out;
}

/** State that outlives a crash (the disk itself), shared by every process life's SimDisk. */
class SimState {
  live = new Map<string, Entry>();
  durable = new Map<string, Entry>();
  faults: Required<Fault>[] = [];
  generation = 0;
  /** Mutating calls left before a scheduled crash fires (null: none scheduled). */
  crashAfterOps: number | null = null;
  crashOptions: CrashOptions = {};
  readonly stats = { crashes: 0, tornWrites: 0, unsyncedOpsKept: 0, unsyncedOpsLost: 0, faultsFired: 0 };
  constructor(readonly random: () => number) {
    this.live.set('/', { kind: 'dir' });
    this.durable.set('/', { kind: 'dir' });
  }
}

/**
 * The disk as one process life sees it. crash() returns the SimDisk of the next life; this one
 * is dead afterwards (every call throws EBADF), so async work the "killed" process still had
 * queued cannot touch what the restarted one sees.
 */
export class SimDisk implements Disk {
  private readonly s: SimState;
  private readonly generation: number;

  constructor(seed: number, state?: SimState) {
    this.s = state ?? new SimState(rng(seed));
    this.generation = this.s.generation;
  }

  get stats(): SimState['stats'] {
    return this.s.stats;
  }

  private get live(): Map<string, Entry> {
    this.alive();
    return this.s.live;
  }

  private set live(m: Map<string, Entry>) {
    this.s.live = m;
  }

  private get durable(): Map<string, Entry> {
    return this.s.durable;
  }

  private set durable(m: Map<string, Entry>) {
    this.s.durable = m;
  }

  private get faults(): Required<Fault>[] {
    return this.s.faults;
  }

  private set faults(f: Required<Fault>[]) {
    this.s.faults = f;
  }

  private random(): number {
    return this.s.random();
  }

  private alive(): void {
    if (this.generation !== this.s.generation) throw new SimDiskError('EBADF', 'disk of a crashed process', '');
  }

  injectFault(fault: Fault): void {
    this.faults.push({ pathIncludes: '', count: 1, ...fault });
  }

  /** Power loss. Returns the disk the restarted process sees; this one and its files are dead. */
  crash(options: CrashOptions = {}): SimDisk {
    this.alive();
    this.powerLoss(options);
    return new SimDisk(0, this.s);
  }

  /**
   * Power loss inside the `ops`-th mutating call from now (write, sync, rename, unlink, create,
   * truncate, fsyncDir): that call throws ECRASH; a write is torn or kept like any unsynced one.
   * Then `restarted()` gives the next life's disk.
   */
  scheduleCrash(ops: number, options: CrashOptions = {}): void {
    this.alive();
    this.s.crashAfterOps = Math.max(1, ops);
    this.s.crashOptions = options;
  }

  /** Drops a scheduled crash that has not fired. */
  cancelScheduledCrash(): void {
    this.s.crashAfterOps = null;
  }

  /** True once a scheduled crash fired (this process life is over). */
  get crashed(): boolean {
    return this.generation !== this.s.generation;
  }

  /** The disk of the life after a crash (scheduled or not). */
  restarted(): SimDisk {
    if (!this.crashed) throw new Error('restarted() before a crash');
    return new SimDisk(0, this.s);
  }

  private powerLoss(options: CrashOptions): void {
    this.s.crashAfterOps = null;
    this.stats.crashes++;
    this.s.generation++;
    this.faults = [];
    const mode = options.unsynced ?? 'prefix';
    this.live = new Map();
    const seen = new Set<Inode>();
    for (const [path, entry] of this.durable) {
      if (!ancestors(dirname(path)).every((d) => this.durable.get(d)?.kind === 'dir')) continue; // a directory on its path lost its name
      this.s.live.set(path, entry);
      if (entry.kind === 'file' && !seen.has(entry.inode)) {
        seen.add(entry.inode);
        this.settle(entry.inode, mode);
      }
    }
    this.durable = new Map(this.s.live);
  }

  private settle(inode: Inode, mode: 'none' | 'prefix'): void {
    let data: Bytes = Buffer.from(inode.durable);
    const ops = inode.unsynced;
    const kept = mode === 'none' ? 0 : Math.floor(this.random() * (ops.length + 1));
    for (let i = 0; i < kept; i++) data = applyOp(data, ops[i]!);
    const next = ops[kept];
    if (mode === 'prefix' && next !== undefined && next.kind === 'write' && this.random() < 0.5) {
      data = applyOp(data, next, Math.floor(this.random() * next.bytes.length));
      this.stats.tornWrites++;
    }
    this.stats.unsyncedOpsKept += kept;
    this.stats.unsyncedOpsLost += ops.length - kept;
    inode.data = data;
    inode.durable = Buffer.from(data);
    inode.unsynced = [];
  }

  // ---- inspection for tests ----

  /** Current (page cache) bytes of a file, or undefined. */
  peek(path: string): Buffer | undefined {
    const e = this.live.get(normalize(path));
    return e?.kind === 'file' ? e.inode.data : undefined;
  }

  /** Overwrites bytes in place and makes them durable (damage injected by a test). */
  corrupt(path: string, position: number, bytes: Uint8Array): void {
    const inode = this.file(normalize(path), 'corrupt');
    inode.data = applyOp(inode.data, { kind: 'write', position, bytes: Buffer.from(bytes) });
    inode.durable = Buffer.from(inode.data);
  }

  /** Creates a directory durably (a test's data dir that existed before the server). */
  mkdirDurable(dir: string): void {
    const d = normalize(dir);
    for (const p of ancestors(d)) {
      if (!this.live.has(p)) this.live.set(p, { kind: 'dir' });
      this.durable.set(p, { kind: 'dir' });
    }
  }

  // ---- Disk ----

  open(path: string, mode: OpenMode): Promise<DiskFile> {
    return settle(() => this.openSync(path, mode));
  }

  openSync(path: string, mode: OpenMode): DiskFile {
    const p = normalize(path);
    this.fault('open', p);
    const e = this.live.get(p);
    if (e?.kind === 'dir') {
      if (mode !== 'r') throw new SimDiskError('EISDIR', 'open', p);
      return new SimDirHandle(p, this);
    }
    let inode: Inode;
    if (e === undefined) {
      if (mode !== 'w+') throw new SimDiskError('ENOENT', 'open', p);
      this.parentDir(p, 'open');
      inode = new Inode();
      this.live.set(p, { kind: 'file', inode });
    } else {
      inode = e.inode;
      if (mode === 'w+') this.truncateInode(inode, 0);
    }
    return new SimFile(p, inode, this, mode !== 'r');
  }

  readFile(path: string): Promise<Buffer> {
    return settle(() => Buffer.from(this.file(normalize(path), 'readFile').data));
  }

  size(path: string): Promise<number> {
    return settle(() => this.file(normalize(path), 'stat').data.length);
  }

  rename(from: string, to: string): Promise<void> {
    return settle(() => this.renameSync(from, to));
  }

  renameSync(from: string, to: string): void {
    const f = normalize(from);
    const t = normalize(to);
    this.fault('rename', f);
    const e = this.live.get(f);
    if (e === undefined) throw new SimDiskError('ENOENT', 'rename', f);
    if (e.kind === 'dir') throw new SimDiskError('EISDIR', 'rename', f); // storage renames files only
    this.parentDir(t, 'rename');
    this.live.delete(f);
    this.live.set(t, e);
  }

  unlink(path: string): Promise<void> {
    return settle(() => this.unlinkSync(path));
  }

  unlinkSync(path: string): void {
    const p = normalize(path);
    this.fault('unlink', p);
    this.file(p, 'unlink');
    this.live.delete(p);
  }

  list(dir: string): Promise<string[]> {
    return settle(() => {
      const d = normalize(dir);
      if (this.live.get(d)?.kind !== 'dir') throw new SimDiskError('ENOENT', 'scandir', d);
      const names: string[] = [];
      for (const p of this.live.keys()) if (p !== '/' && dirname(p) === d) names.push(p.slice(d === '/' ? 1 : d.length + 1));
      return names;
    });
  }

  mkdirp(dir: string): Promise<string | undefined> {
    return settle(() => {
      let first: string | undefined;
      for (const p of ancestors(normalize(dir))) {
        const e = this.live.get(p);
        if (e?.kind === 'file') throw new SimDiskError('ENOTDIR', 'mkdir', p);
        if (e === undefined) {
          this.live.set(p, { kind: 'dir' });
          first ??= p;
        }
      }
      return first;
    });
  }

  fsyncDir(dir: string): Promise<void> {
    return settle(() => this.fsyncDirSync(dir));
  }

  fsyncDirSync(dir: string): void {
    const d = normalize(dir);
    this.fault('fsyncDir', d);
    if (this.live.get(d)?.kind !== 'dir') throw new SimDiskError('ENOENT', 'fsync', d);
    for (const p of [...this.durable.keys()]) if (p !== '/' && dirname(p) === d && !this.live.has(p)) this.durable.delete(p);
    for (const [p, e] of this.live) if (p !== '/' && dirname(p) === d) this.durable.set(p, e);
  }

  // ---- used by the handles ----

  /** @internal */
  checkHandle(path: string): void {
    if (this.generation !== this.s.generation) throw new SimDiskError('EBADF', 'use after crash', path);
  }

  /** @internal */
  fault(op: FaultOp, path: string): void {
    this.alive();
    if (this.s.crashAfterOps !== null && --this.s.crashAfterOps <= 0) {
      this.powerLoss(this.s.crashOptions);
      throw new SimDiskError('ECRASH', `power lost during ${op}`, path);
    }
    const f = this.faults.find((x) => x.op === op && path.includes(x.pathIncludes));
    if (f === undefined) return;
    f.count--;
    if (f.count <= 0) this.faults.splice(this.faults.indexOf(f), 1);
    this.stats.faultsFired++;
    throw new SimDiskError('EIO', op, path);
  }

  /**
   * @internal A write: an EIO fault fails it before it happens; a scheduled crash fires after it
   * reached the page cache (so the crash may keep or tear it).
   */
  writeFault(path: string, apply: () => void): void {
    this.alive();
    const f = this.faults.find((x) => x.op === 'write' && path.includes(x.pathIncludes));
    if (f !== undefined) this.fault('write', path);
    apply();
    if (this.s.crashAfterOps !== null && --this.s.crashAfterOps <= 0) {
      this.powerLoss(this.s.crashOptions);
      throw new SimDiskError('ECRASH', 'power lost during write', path);
    }
  }

  /** @internal */
  truncateInode(inode: Inode, size: number): void {
    inode.data = resize(inode.data, size);
    inode.unsynced.push({ kind: 'truncate', size });
  }

  private file(p: string, op: string): Inode {
    const e = this.live.get(p);
    if (e === undefined) throw new SimDiskError('ENOENT', op, p);
    if (e.kind === 'dir') throw new SimDiskError('EISDIR', op, p);
    return e.inode;
  }

  private parentDir(p: string, op: string): void {
    if (this.live.get(dirname(p))?.kind !== 'dir') throw new SimDiskError('ENOENT', op, p);
  }
}

class SimFile implements DiskFile {
  private closed = false;
  constructor(
    readonly path: string,
    private readonly inode: Inode,
    private readonly disk: SimDisk,
    private readonly writable: boolean,
  ) {}

  private check(): void {
    if (this.closed) throw new SimDiskError('EBADF', 'closed handle', this.path);
    this.disk.checkHandle(this.path);
  }

  read(into: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return settle(() => {
      this.check();
      const src = this.inode.data;
      const n = Math.max(0, Math.min(length, src.length - position));
      src.copy(into, offset, position, position + n);
      return n;
    });
  }

  write(bytes: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return settle(() => this.writeSync(bytes, offset, length, position));
  }

  writeSync(bytes: Uint8Array, offset: number, length: number, position: number): number {
    this.check();
    if (!this.writable) throw new SimDiskError('EBADF', 'write on a read-only handle', this.path);
    const op = { kind: 'write' as const, position, bytes: Buffer.from(bytes.subarray(offset, offset + length)) };
    this.disk.writeFault(this.path, () => {
      this.inode.data = applyOp(this.inode.data, op);
      this.inode.unsynced.push(op);
    });
    return length;
  }

  datasync(): Promise<void> {
    return settle(() => this.syncSync());
  }

  datasyncSync(): void {
    this.syncSync();
  }

  sync(): Promise<void> {
    return settle(() => this.syncSync());
  }

  /** fdatasync and fsync are alike here: the model keeps no timestamps. */
  syncSync(): void {
    this.check();
    try {
      this.disk.fault('sync', this.path);
    } catch (err) {
      // Linux after a failed fsync: the dirty pages are marked clean, their data is not durable.
      this.inode.unsynced = [];
      throw err;
    }
    // Only the dirty ops reach the disk: pages a failed sync marked clean stay lost.
    // `durable` belongs to this inode alone (never shared with `data`), so it is updated in place.
    let durable = this.inode.durable;
    for (const op of this.inode.unsynced) durable = applyOp(durable, op);
    this.inode.durable = durable;
    this.inode.unsynced = [];
  }

  size(): Promise<number> {
    return settle(() => {
      this.check();
      return this.inode.data.length;
    });
  }

  truncate(bytes: number): Promise<void> {
    return settle(() => {
      this.check();
      this.disk.fault('truncate', this.path);
      this.disk.truncateInode(this.inode, bytes);
    });
  }

  close(): Promise<void> {
    return settle(() => this.closeSync());
  }

  closeSync(): void {
    this.closed = true;
  }
}

/** A directory opened for fsync (as `open(dir, 'r')` + fsync on Linux). */
class SimDirHandle implements DiskFile {
  constructor(
    readonly path: string,
    private readonly disk: SimDisk,
  ) {}
  read(): Promise<number> {
    return Promise.reject(new SimDiskError('EISDIR', 'read', this.path));
  }
  write(): Promise<number> {
    return Promise.reject(new SimDiskError('EISDIR', 'write', this.path));
  }
  writeSync(): number {
    throw new SimDiskError('EISDIR', 'write', this.path);
  }
  datasync(): Promise<void> {
    return settle(() => this.disk.fsyncDirSync(this.path));
  }
  datasyncSync(): void {
    this.disk.fsyncDirSync(this.path);
  }
  sync(): Promise<void> {
    return settle(() => this.disk.fsyncDirSync(this.path));
  }
  syncSync(): void {
    this.disk.fsyncDirSync(this.path);
  }
  size(): Promise<number> {
    return Promise.resolve(0);
  }
  truncate(): Promise<void> {
    return Promise.reject(new SimDiskError('EISDIR', 'truncate', this.path));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  closeSync(): void {}
}

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** '/a/b/c' -> ['/a', '/a/b', '/a/b/c'] (root excluded). */
function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let q = p; q !== '/' && q !== '.'; q = dirname(q)) out.unshift(q);
  return out;
}
