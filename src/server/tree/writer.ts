// The tree's only writer (main thread). Mutations happen inside a write window: beginWrite makes
// the seqlock odd, endWrite publishes appliedZxid and makes it even again, so readers see a whole
// batch or none of it. See native-notes/shared-memory.md for the protocol and its argument.
import { AssertionError, assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import { ZookooperError } from '../../common/errors.js';
import type { ACL, Stat } from '../../common/types.js';
import type { ChildrenRead, NewNode, NodeRead, StatUpdate, TreeView, TreeWriter, Versioned } from './api.js';
import { alloc, blockSlots, free } from './alloc.js';
import { openCapture, type TreeCapture } from './capture.js';
import { RETRY, TreeMemory, encodeAcl, type Retry } from './core.js';
import * as L from './layout.js';

const U64_MAX = (1n << 64n) - 1n;
const SLASH = 0x2f;

export class SharedTreeWriter implements TreeWriter {
  readonly buffer: SharedArrayBuffer;
  private readonly m: TreeMemory;
  private inWrite = false;
  /** Writer-side intern map (encoded ACL bytes as latin1 -> index); rebuilt from the table. */
  private readonly aclIndexByKey = new Map<string, number>();
  private readonly aclCache: ACL[][] = [];
  private readonly view: TreeView;

  constructor(m: TreeMemory) {
    this.m = m;
    this.buffer = m.buffer;
    const count = m.u32[L.H_ACL_COUNT]!;
    for (let i = 0; i < count; i++) this.aclIndexByKey.set(aclKey(this.acl(i)), i);
    this.view = {
      stat: (p) => this.statOf(p),
      getData: (p, withData) => this.readNode(p, withData ?? true),
      getChildren: (p) => this.readChildren(p),
      countDescendants: (p) => this.descendantsOf(p),
    };
  }

  // ---- write window ----

  beginWrite(): void {
    assert(!this.inWrite, 'beginWrite inside a write window');
    const seq = Atomics.load(this.m.i32, L.H_SEQ);
    assert((seq & 1) === 0, 'seqlock odd outside a write window');
    this.inWrite = true;
    Atomics.store(this.m.i32, L.H_SEQ, seq + 1);
  }

  endWrite(appliedZxid: bigint): void {
    assert(this.inWrite, 'endWrite outside a write window');
    assert(appliedZxid >= 0n && appliedZxid <= U64_MAX, 'appliedZxid is u64');
    const u32 = this.m.u32;
    u32[L.H_APPLIED_LO] = Number(appliedZxid & 0xffffffffn);
    u32[L.H_APPLIED_HI] = Number(appliedZxid >> 32n);
    const seq = Atomics.load(this.m.i32, L.H_SEQ);
    assert((seq & 1) === 1, 'seqlock even inside a write window');
    // The SC store orders every plain write of the window before it (release for readers).
    Atomics.store(this.m.i32, L.H_SEQ, seq + 1);
    this.inWrite = false;
    if (Atomics.load(this.m.i32, L.H_WAITERS) > 0) Atomics.notify(this.m.i32, L.H_SEQ);
  }

  // ---- mutations ----

  createNode(path: string, node: NewNode): void {
    const m = this.m;
    if (!this.inWrite) fail('createNode outside a write window', path);
    const len = m.encodePath(path);
    if (len <= 1) fail('createNode: bad path', path);
    const h = m.hashScratch(len);
    if (this.found(m.find(len, h)) !== 0) fail('createNode: node exists', path);
    let slash = len - 1;
    while (m.scratch[slash] !== SLASH) slash--;
    if (slash === len - 1) fail('createNode: empty name', path);
    const parentLen = slash === 0 ? 1 : slash;
    const parent = this.found(m.find(parentLen, m.hashScratch(parentLen)));
    if (parent === 0) fail('createNode: parent missing', path);
    assert(node.aclIndex >= 0 && node.aclIndex < m.u32[L.H_ACL_COUNT]!, 'createNode: unknown aclIndex');
    assert(node.data.length <= m.u32[L.H_DATA_BYTES_MAX]!, 'createNode: data over the tree limit');
    assert(Number.isFinite(node.timeMs), 'createNode: timeMs finite');
    const zlo = lo32(node.zxid);
    const zhi = hi32(node.zxid);

    const dataRef = node.data.length === 0 ? 0 : alloc(m, node.data.length);
    const ref = alloc(m, L.NODE_FIXED_BYTES + len);
    // Only now take the views: alloc() may have grown the buffer and replaced them.
    const u32 = m.u32;
    const u8 = m.u8;
    if (dataRef !== 0) {
      m.touch(dataRef * L.SLOT_BYTES, dataRef * L.SLOT_BYTES + node.data.length);
      u8.set(node.data, dataRef * L.SLOT_BYTES);
    }
    m.touch(ref * L.SLOT_BYTES, ref * L.SLOT_BYTES + L.NODE_FIXED_BYTES + len);
    const base = ref * L.SLOT_BYTES + L.NODE_FIXED_BYTES;
    const scratch = m.scratch;
    for (let i = 0; i < len; i++) u8[base + i] = scratch[i]!;
    const w = ref * 2;
    u32[w + L.N_CZXID_LO] = zlo;
    u32[w + L.N_CZXID_HI] = zhi;
    u32[w + L.N_MZXID_LO] = zlo;
    u32[w + L.N_MZXID_HI] = zhi;
    u32[w + L.N_PZXID_LO] = zlo;
    u32[w + L.N_PZXID_HI] = zhi;
    m.f64[ref + L.N_CTIME_F64] = node.timeMs;
    m.f64[ref + L.N_MTIME_F64] = node.timeMs;
    u32[w + L.N_VERSION] = 0;
    u32[w + L.N_CVERSION] = 0;
    u32[w + L.N_AVERSION] = 0;
    u32[w + L.N_EPH_LO] = lo32(node.ephemeralOwner);
    u32[w + L.N_EPH_HI] = hi32(node.ephemeralOwner);
    u32[w + L.N_DATA_LEN] = node.data.length;
    u32[w + L.N_NUM_CHILDREN] = 0;
    u32[w + L.N_ACL] = node.aclIndex;
    u32[w + L.N_SEQUENCE] = 0;
    u32[w + L.N_DATA_REF] = dataRef;
    u32[w + L.N_HASH] = h;
    u32[w + L.N_PATH] = len | ((slash + 1) << 16);
    // Link first among the parent's children (O(1)); ZooKeeper's child order is unspecified too.
    const pw = parent * 2;
    const next = u32[pw + L.N_FIRST_CHILD]!;
    u32[w + L.N_PARENT] = parent;
    u32[w + L.N_FIRST_CHILD] = 0;
    u32[w + L.N_PREV] = 0;
    u32[w + L.N_NEXT] = next;
    if (next !== 0) {
      m.touchWord(next * 2 + L.N_PREV);
      u32[next * 2 + L.N_PREV] = ref;
    }
    m.touchWord(pw + L.N_FIRST_CHILD);
    m.touchWord(pw + L.N_NUM_CHILDREN);
    u32[pw + L.N_FIRST_CHILD] = ref;
    u32[pw + L.N_NUM_CHILDREN] = u32[pw + L.N_NUM_CHILDREN]! + 1;
    this.indexInsert(ref, h);
    const count = u32[L.H_NODE_COUNT]! + 1;
    u32[L.H_NODE_COUNT] = count;
    if (count > (u32[L.H_INDEX_MASK]! + 1) * L.INDEX_LOAD_MAX) this.resizeIndex();
  }

  deleteNode(path: string): void {
    const m = this.m;
    const u32 = m.u32;
    if (!this.inWrite) fail('deleteNode outside a write window', path);
    const ref = this.found(m.lookup(path));
    if (ref === 0) fail('deleteNode: no node', path);
    assert(ref !== u32[L.H_ROOT_REF], 'deleteNode: the root');
    const w = ref * 2;
    if (u32[w + L.N_NUM_CHILDREN] !== 0) fail('deleteNode: node has children', path);
    assert(u32[w + L.N_FIRST_CHILD] === 0, 'deleteNode: child list not empty');
    const parent = u32[w + L.N_PARENT]!;
    const pw = parent * 2;
    const prev = u32[w + L.N_PREV]!;
    const next = u32[w + L.N_NEXT]!;
    if (prev === 0) {
      assert(u32[pw + L.N_FIRST_CHILD] === ref, 'deleteNode: first child link');
      m.touchWord(pw + L.N_FIRST_CHILD);
      u32[pw + L.N_FIRST_CHILD] = next;
    } else {
      m.touchWord(prev * 2 + L.N_NEXT);
      u32[prev * 2 + L.N_NEXT] = next;
    }
    if (next !== 0) {
      m.touchWord(next * 2 + L.N_PREV);
      u32[next * 2 + L.N_PREV] = prev;
    }
    m.touchWord(pw + L.N_NUM_CHILDREN);
    const siblings = u32[pw + L.N_NUM_CHILDREN]!;
    assert(siblings > 0, 'deleteNode: parent numChildren would go negative');
    u32[pw + L.N_NUM_CHILDREN] = siblings - 1;
    this.indexRemove(ref);
    const dataLen = u32[w + L.N_DATA_LEN]!;
    if (dataLen !== 0) free(m, u32[w + L.N_DATA_REF]!, dataLen);
    const pathLen = u32[w + L.N_PATH]! & L.PATH_LEN_MASK;
    m.touchWord(w + L.N_PATH);
    u32[w + L.N_PATH] = 0; // marks the record free for readers holding a stale ref
    free(m, ref, L.NODE_FIXED_BYTES + pathLen);
    u32[L.H_NODE_COUNT] = u32[L.H_NODE_COUNT]! - 1;
  }

  setData(path: string, data: Uint8Array): void {
    const m = this.m;
    if (!this.inWrite) fail('setData outside a write window', path);
    const ref = this.found(m.lookup(path));
    if (ref === 0) fail('setData: no node', path);
    assert(data.length <= m.u32[L.H_DATA_BYTES_MAX]!, 'setData: data over the tree limit');
    const w = ref * 2;
    const oldLen = m.u32[w + L.N_DATA_LEN]!;
    let dref = m.u32[w + L.N_DATA_REF]!;
    // Same size class: overwrite in place (readers in the window retry anyway).
    const reuse = oldLen !== 0 && data.length !== 0 && blockSlots(oldLen) === blockSlots(data.length);
    if (!reuse) {
      if (oldLen !== 0) free(m, dref, oldLen);
      dref = data.length === 0 ? 0 : alloc(m, data.length);
    }
    if (dref !== 0) {
      m.touch(dref * L.SLOT_BYTES, dref * L.SLOT_BYTES + data.length);
      m.u8.set(data, dref * L.SLOT_BYTES); // m.u8 after alloc: views may be new
    }
    m.touch(ref * L.SLOT_BYTES, ref * L.SLOT_BYTES + L.NODE_FIXED_BYTES);
    m.u32[w + L.N_DATA_REF] = dref;
    m.u32[w + L.N_DATA_LEN] = data.length;
  }

  updateStat(path: string, update: StatUpdate): void {
    const m = this.m;
    if (!this.inWrite) fail('updateStat outside a write window', path);
    const ref = this.found(m.lookup(path));
    if (ref === 0) fail('updateStat: no node', path);
    const w = ref * 2;
    m.touch(ref * L.SLOT_BYTES, ref * L.SLOT_BYTES + L.NODE_FIXED_BYTES);
    if (update.mzxid !== undefined) writeU64(m.u32, w + L.N_MZXID_LO, update.mzxid);
    if (update.pzxid !== undefined) writeU64(m.u32, w + L.N_PZXID_LO, update.pzxid);
    if (update.mtime !== undefined) {
      assert(Number.isFinite(update.mtime), 'updateStat: mtime finite');
      m.f64[ref + L.N_MTIME_F64] = update.mtime;
    }
    if (update.version !== undefined) m.i32[w + L.N_VERSION] = int32(update.version, 'version');
    if (update.cversion !== undefined) m.i32[w + L.N_CVERSION] = int32(update.cversion, 'cversion');
    if (update.aversion !== undefined) m.i32[w + L.N_AVERSION] = int32(update.aversion, 'aversion');
    if (update.sequence !== undefined) m.i32[w + L.N_SEQUENCE] = int32(update.sequence, 'sequence');
    if (update.aclIndex !== undefined) {
      assert(update.aclIndex >= 0 && update.aclIndex < m.u32[L.H_ACL_COUNT]!, 'updateStat: unknown aclIndex');
      m.u32[w + L.N_ACL] = update.aclIndex;
    }
  }

  internAcl(acl: ACL[]): number {
    assert(acl.length <= constants.aclEntriesMax, 'internAcl: too many entries');
    // Every create interns its ACL: the key is a plain string (encoding the blob for the key cost
    // 0.6-0.8 s of a million creates in a cpu profile); the blob is encoded only for a new list.
    const key = aclKey(acl);
    const known = this.aclIndexByKey.get(key);
    if (known !== undefined) return known;
    const bytes = encodeAcl(acl);
    const m = this.m;
    const index = m.u32[L.H_ACL_COUNT]!;
    if (index >= constants.aclSetsMax) throw new ZookooperError('SYSTEMERROR', 'too many distinct ACLs');
    const ownWindow = !this.inWrite;
    if (ownWindow) this.beginWrite();
    const blob = alloc(m, bytes.length);
    m.touch(blob * L.SLOT_BYTES, blob * L.SLOT_BYTES + bytes.length);
    m.u8.set(bytes, blob * L.SLOT_BYTES); // m.u8 / m.u32 after every alloc: views may be new
    const cap = m.u32[L.H_ACL_DIR_CAP]!;
    if (index === cap) {
      // Move the directory to a doubled block; readers of the old one retry (seqlock).
      const oldDir = m.u32[L.H_ACL_DIR_REF]!;
      const dir = alloc(m, cap * 2 * 4);
      m.touch(dir * L.SLOT_BYTES, dir * L.SLOT_BYTES + cap * 2 * 4);
      m.u32.copyWithin(dir * 2, oldDir * 2, oldDir * 2 + cap);
      m.u32[L.H_ACL_DIR_REF] = dir;
      m.u32[L.H_ACL_DIR_CAP] = cap * 2;
      free(m, oldDir, cap * 4);
    }
    m.touchWord(m.u32[L.H_ACL_DIR_REF]! * 2 + index);
    m.u32[m.u32[L.H_ACL_DIR_REF]! * 2 + index] = blob;
    m.u32[L.H_ACL_COUNT] = index + 1;
    if (ownWindow) this.endWrite(m.appliedZxid());
    this.aclIndexByKey.set(key, index);
    return index;
  }

  // ---- main-thread lookups ----

  has(path: string): boolean {
    return this.found(this.m.lookup(path)) !== 0;
  }

  statOf(path: string): Stat | null {
    const ref = this.found(this.m.lookup(path));
    return ref === 0 ? null : this.m.stat(ref);
  }

  aclIndexOf(path: string): number | null {
    const ref = this.found(this.m.lookup(path));
    return ref === 0 ? null : this.m.u32[ref * 2 + L.N_ACL]!;
  }

  sequenceOf(path: string): number | null {
    const ref = this.found(this.m.lookup(path));
    return ref === 0 ? null : this.m.i32[ref * 2 + L.N_SEQUENCE]!;
  }

  childNames(path: string): string[] | null {
    const ref = this.found(this.m.lookup(path));
    return ref === 0 ? null : this.ok(this.m.children(ref));
  }

  dataOf(path: string): Buffer | null {
    const ref = this.found(this.m.lookup(path));
    return ref === 0 ? null : this.ok(this.m.data(ref));
  }

  forEachNode(visit: (path: string, stat: Stat) => void): void {
    const m = this.m;
    this.walk((ref) => visit(m.path(ref), m.stat(ref)));
  }

  forEachOwnedNode(visit: (path: string, ephemeralOwner: bigint) => void): void {
    // A node without an owner costs two word reads here: no path or Stat decoded, which matters
    // when rebuilding indexes over millions of nodes at start-up.
    const m = this.m;
    const u32 = m.u32;
    this.walk((ref) => {
      const lo = u32[ref * 2 + L.N_EPH_LO]!;
      const hi = u32[ref * 2 + L.N_EPH_HI]!;
      if (lo !== 0 || hi !== 0) visit(m.path(ref), (BigInt(hi) << 32n) | BigInt(lo));
    });
  }

  /** Pre-order walk over the child links: parents before children. `visit` must not mutate. */
  private walk(visit: (ref: number) => void): void {
    const u32 = this.m.u32;
    const root = u32[L.H_ROOT_REF]!;
    let cur = root;
    for (;;) {
      visit(cur);
      const first = u32[cur * 2 + L.N_FIRST_CHILD]!;
      if (first !== 0) {
        cur = first;
        continue;
      }
      while (cur !== root && u32[cur * 2 + L.N_NEXT] === 0) cur = u32[cur * 2 + L.N_PARENT]!;
      if (cur === root) return;
      cur = u32[cur * 2 + L.N_NEXT]!;
    }
  }

  image(): Uint8Array {
    assert(!this.inWrite, 'image inside a write window');
    const bytes = this.m.u32[L.H_USED_SLOTS]! * L.SLOT_BYTES;
    // set() into a new array copies shared memory faster than slice() (240 MB: ~115 vs ~180 ms here).
    const out = new Uint8Array(bytes);
    out.set(this.m.u8.subarray(0, bytes));
    return out;
  }

  capture(): TreeCapture {
    assert(!this.inWrite, 'capture inside a write window');
    return openCapture(this.m, this.m.u32[L.H_USED_SLOTS]! * L.SLOT_BYTES, this.m.appliedZxid());
  }

  memoryUsage(): { usedBytes: number; freeListBytes: number; capacityBytes: number; maxBytes: number; nodes: number } {
    const u32 = this.m.u32;
    return {
      usedBytes: u32[L.H_USED_SLOTS]! * L.SLOT_BYTES,
      freeListBytes: u32[L.H_FREE_SLOTS]! * L.SLOT_BYTES,
      capacityBytes: this.buffer.byteLength,
      maxBytes: (this.buffer as unknown as { maxByteLength: number }).maxByteLength,
      nodes: u32[L.H_NODE_COUNT]!,
    };
  }

  // ---- TreeReader (the writer thread reads directly: nothing changes underneath it) ----

  appliedZxid(): bigint {
    return this.m.appliedZxid();
  }

  stat(path: string): Versioned<Stat | null> {
    return { zxid: this.m.appliedZxid(), value: this.statOf(path) };
  }

  getData(path: string, withData = true): Versioned<NodeRead | null> {
    return { zxid: this.m.appliedZxid(), value: this.readNode(path, withData) };
  }

  getChildren(path: string): Versioned<ChildrenRead | null> {
    return { zxid: this.m.appliedZxid(), value: this.readChildren(path) };
  }

  countDescendants(path: string): Versioned<number | null> {
    return { zxid: this.m.appliedZxid(), value: this.descendantsOf(path) };
  }

  batch<T>(fn: (view: TreeView) => T): Versioned<T> {
    return { zxid: this.m.appliedZxid(), value: fn(this.view) };
  }

  acl(aclIndex: number): ACL[] {
    const cached = this.aclCache[aclIndex];
    if (cached !== undefined) return cached;
    const acl = this.ok(this.m.aclAt(aclIndex));
    const frozen = Object.freeze(acl.map((a) => Object.freeze(a))) as ACL[];
    this.aclCache[aclIndex] = frozen;
    return frozen;
  }

  nodeCount(): number {
    return this.m.u32[L.H_NODE_COUNT]!;
  }

  // ---- internals ----

  private readNode(path: string, withData: boolean): NodeRead | null {
    const ref = this.found(this.m.lookup(path));
    if (ref === 0) return null;
    const data = withData ? this.ok(this.m.data(ref)) : Buffer.alloc(0);
    return { stat: this.m.stat(ref), data, aclIndex: this.m.u32[ref * 2 + L.N_ACL]! };
  }

  private readChildren(path: string): ChildrenRead | null {
    const ref = this.found(this.m.lookup(path));
    if (ref === 0) return null;
    return { children: this.ok(this.m.children(ref)), stat: this.m.stat(ref), aclIndex: this.m.u32[ref * 2 + L.N_ACL]! };
  }

  private descendantsOf(path: string): number | null {
    const ref = this.found(this.m.lookup(path));
    return ref === 0 ? null : this.ok(this.m.countDescendants(ref));
  }

  /** On the writer thread an inconsistent read is a corrupt tree, never a race. */
  private ok<T>(v: T | Retry): T {
    assert(v !== RETRY, 'tree memory inconsistent on the writer thread');
    return v as T;
  }

  private found(v: number | Retry): number {
    return this.ok(v);
  }

  private indexInsert(ref: number, h: number): void {
    const u32 = this.m.u32;
    const bucket = u32[L.H_INDEX_REF]! * 2 + (h & u32[L.H_INDEX_MASK]!);
    this.m.touchWord(bucket);
    this.m.touchWord(ref * 2 + L.N_HASH_NEXT);
    u32[ref * 2 + L.N_HASH_NEXT] = u32[bucket]!;
    u32[bucket] = ref;
  }

  private indexRemove(ref: number): void {
    const u32 = this.m.u32;
    const bucket = u32[L.H_INDEX_REF]! * 2 + (u32[ref * 2 + L.N_HASH]! & u32[L.H_INDEX_MASK]!);
    let at = bucket; // word holding the link to `cur`
    let cur = u32[at]!;
    while (cur !== ref) {
      assert(cur !== 0, 'indexRemove: node not in its bucket');
      at = cur * 2 + L.N_HASH_NEXT;
      cur = u32[at]!;
    }
    this.m.touchWord(at);
    this.m.touchWord(ref * 2 + L.N_HASH_NEXT);
    u32[at] = u32[ref * 2 + L.N_HASH_NEXT]!;
    u32[ref * 2 + L.N_HASH_NEXT] = 0;
  }

  /** Doubles the bucket array: a new table is filled, then published in the header. */
  private resizeIndex(): void {
    const m = this.m;
    const oldRef = m.u32[L.H_INDEX_REF]!;
    const oldCap = m.u32[L.H_INDEX_MASK]! + 1;
    const cap = oldCap * 2;
    const table = alloc(m, cap * 4);
    const u32 = m.u32; // after alloc: the views may be new
    m.touch(table * L.SLOT_BYTES, table * L.SLOT_BYTES + cap * 4);
    u32.fill(0, table * 2, table * 2 + cap); // a reused block holds old bytes
    const mask = cap - 1;
    let moved = 0;
    for (let b = 0; b < oldCap; b++) {
      let cur = u32[oldRef * 2 + b]!;
      while (cur !== 0) {
        const next = u32[cur * 2 + L.N_HASH_NEXT]!;
        const slot = table * 2 + (u32[cur * 2 + L.N_HASH]! & mask);
        m.touchWord(cur * 2 + L.N_HASH_NEXT);
        u32[cur * 2 + L.N_HASH_NEXT] = u32[slot]!;
        u32[slot] = cur;
        cur = next;
        moved++;
      }
    }
    assert(moved === u32[L.H_NODE_COUNT], 'resizeIndex: every node rehashed');
    u32[L.H_INDEX_REF] = table;
    u32[L.H_INDEX_MASK] = mask;
    free(m, oldRef, oldCap * 4);
  }
}

/** A list's identity for interning: entries in order; lengths prefix the strings, so no two lists share a key. */
function aclKey(acl: readonly ACL[]): string {
  let key = '';
  for (const a of acl) key += `${a.perms >>> 0}:${a.scheme.length}:${a.scheme}${a.id.length}:${a.id};`;
  return key;
}

function writeU64(u32: Uint32Array, word: number, v: bigint): void {
  u32[word] = lo32(v);
  u32[word + 1] = hi32(v);
}

// Split a u64 without BigInt arithmetic when it is a safe integer (every realistic zxid).
function lo32(v: bigint): number {
  const n = Number(v);
  if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) return n % 0x100000000;
  assert(v >= 0n && v <= U64_MAX, 'u64 field out of range');
  return Number(v & 0xffffffffn);
}

function hi32(v: bigint): number {
  const n = Number(v);
  if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) return Math.floor(n / 0x100000000);
  assert(v >= 0n && v <= U64_MAX, 'u64 field out of range');
  return Number(v >> 32n);
}

/** A failed precondition with the path in the message, built only when it fails. */
function fail(what: string, path: string): never {
  throw new AssertionError(`${what}: ${JSON.stringify(path)}`);
}

function int32(v: number, name: string): number {
  assert(Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff, () => `updateStat: ${name} is i32`);
  return v;
}
