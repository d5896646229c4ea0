// Read primitives shared by the writer (main thread) and readers (workers). Every function here
// may run while the writer is reusing the memory it reads (a reader inside a seqlock section that
// will fail its re-check), so every ref and length read from memory is bounds-checked against the
// buffer's CURRENT length and sane maxima before it is used, and every walk is bounded. On any
// inconsistency the function returns RETRY instead of throwing, allocating absurdly or looping;
// the caller's seqlock check then differs and the read is retried. On the writer thread nothing
// changes underneath, so the writer turns RETRY into an AssertionError (a corrupt tree).
import type { ACL, Stat } from '../../common/types.js';
import { constants } from '../../common/constants.js';
import * as L from './layout.js';
import type { TreeCapture } from './capture.js';

export const RETRY: unique symbol = Symbol('tree.retry');
export type Retry = typeof RETRY;

/** A path longer than this many UTF-8 bytes cannot be in the tree. */
const PATH_BYTES_MAX = constants.pathBytesMax;

type Utf8Slice = (this: Uint8Array, start: number, end: number) => string;
// Node's own UTF-8 decoder (simdutf, ASCII fast path) works on SharedArrayBuffer-backed views.
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: Utf8Slice }).utf8Slice;

/**
 * Fixed-length views over one growable SharedArrayBuffer (length-tracking views are ~9x slower to
 * index on this V8). refresh() re-creates them after a grow. Writer code must re-read m.u32 etc.
 * after any call that can allocate: a stale view silently ignores writes past its old length.
 */
/** A walk bound that no consistent state exceeds: the node count, capped by what fits in memory. */
function nodeBound(m: TreeMemory): number {
  return Math.min(m.u32[L.H_NODE_COUNT]!, Math.floor(m.u8.length / L.NODE_FIXED_BYTES));
}

export class TreeMemory {
  readonly buffer: SharedArrayBuffer;
  u8: Uint8Array;
  u32: Uint32Array;
  i32: Int32Array;
  f64: Float64Array;
  /** Scratch for path encoding: lookups allocate nothing. pathBytesMax chars * 3 bytes fit. */
  readonly scratch = new Uint8Array(PATH_BYTES_MAX * 4);
  private readonly encoder = new TextEncoder();
  /** Open captures of this tree (writer thread only): each keeps the old bytes of pages written. */
  readonly captures: TreeCapture[] = [];

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    const bytes = buffer.byteLength;
    this.u8 = new Uint8Array(buffer, 0, bytes);
    this.u32 = new Uint32Array(buffer, 0, Math.floor(bytes / 4));
    this.i32 = new Int32Array(buffer, 0, Math.floor(bytes / 4));
    this.f64 = new Float64Array(buffer, 0, Math.floor(bytes / 8));
  }

  /** Re-creates the views if the buffer grew (cheap check: one header word). */
  refresh(): void {
    const bytes = this.buffer.byteLength; // atomic read of the current length
    if (bytes === this.u8.length) return;
    this.u8 = new Uint8Array(this.buffer, 0, bytes);
    this.u32 = new Uint32Array(this.buffer, 0, Math.floor(bytes / 4));
    this.i32 = new Int32Array(this.buffer, 0, Math.floor(bytes / 4));
    this.f64 = new Float64Array(this.buffer, 0, Math.floor(bytes / 8));
  }

  /**
   * The writer calls this before it changes bytes [start, end) below the header (the header page
   * is saved when a capture opens), so every open capture keeps what they held.
   */
  touch(start: number, end: number): void {
    const cs = this.captures;
    for (let i = 0; i < cs.length; i++) cs[i]!.preserve(start, end);
  }

  /** touch() for one u32 word (a word index into u32). */
  touchWord(word: number): void {
    if (this.captures.length !== 0) this.touch(word * 4, word * 4 + 4);
  }

  /** Readers call this at the start of a section: the header says the writer grew the buffer. */
  maybeRefresh(): void {
    if (this.u32[L.H_CAPACITY_SLOTS]! * L.SLOT_BYTES !== this.u8.length) this.refresh();
  }

  /** Encodes `path` into scratch; returns its byte length, or -1 if it cannot be a tree path. */
  encodePath(path: string): number {
    if (path.length === 0 || path.length > PATH_BYTES_MAX) return -1;
    const r = this.encoder.encodeInto(path, this.scratch);
    if (r.read !== path.length || r.written > PATH_BYTES_MAX) return -1;
    return r.written;
  }

  /** FNV-1a over scratch[0, len). */
  hashScratch(len: number): number {
    const s = this.scratch;
    let h = 0x811c9dc5;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ s[i]!, 0x01000193);
    return h >>> 0;
  }

  /** True if a record of at least the fixed size fits at `ref`, and its path too. */
  recordOk(ref: number): boolean {
    if (ref < L.HEADER_SLOTS) return false;
    const byte = ref * L.SLOT_BYTES;
    if (byte + L.NODE_FIXED_BYTES > this.u8.length) return false;
    const pw = this.u32[ref * 2 + L.N_PATH]!;
    const len = pw & L.PATH_LEN_MASK;
    const nameStart = pw >>> 16;
    if (len === 0 || len > PATH_BYTES_MAX || nameStart > len) return false;
    return byte + L.NODE_FIXED_BYTES + len <= this.u8.length;
  }

  /** Node ref of scratch[0, len) with hash h; 0 if absent. */
  find(len: number, h: number): number | Retry {
    const u32 = this.u32;
    const u8 = this.u8;
    const table = u32[L.H_INDEX_REF]!;
    const mask = u32[L.H_INDEX_MASK]!;
    if (table < L.HEADER_SLOTS || (table + (mask + 1) / 2) * L.SLOT_BYTES > u8.length) return RETRY;
    let ref = u32[table * 2 + (h & mask)]!;
    let steps = nodeBound(this) + 1;
    const s = this.scratch;
    while (ref !== 0) {
      if (steps-- === 0 || !this.recordOk(ref)) return RETRY;
      const w = ref * 2;
      if (u32[w + L.N_HASH] === h && (u32[w + L.N_PATH]! & L.PATH_LEN_MASK) === len) {
        const base = ref * L.SLOT_BYTES + L.NODE_FIXED_BYTES;
        let i = 0;
        while (i < len && u8[base + i] === s[i]) i++;
        if (i === len) return ref;
      }
      ref = u32[w + L.N_HASH_NEXT]!;
    }
    return 0;
  }

  /** Node ref of `path`; 0 if absent (or not a possible path). */
  lookup(path: string): number | Retry {
    const len = this.encodePath(path);
    if (len < 0) return 0;
    return this.find(len, this.hashScratch(len));
  }

  /** Stat of a record that passed recordOk. Reads only fixed fields: cannot fault. */
  stat(ref: number): Stat {
    const u32 = this.u32;
    const i32 = this.i32;
    const w = ref * 2;
    return {
      czxid: u64(u32[w + L.N_CZXID_LO]!, u32[w + L.N_CZXID_HI]!),
      mzxid: u64(u32[w + L.N_MZXID_LO]!, u32[w + L.N_MZXID_HI]!),
      pzxid: u64(u32[w + L.N_PZXID_LO]!, u32[w + L.N_PZXID_HI]!),
      ctime: this.f64[ref + L.N_CTIME_F64]!,
      mtime: this.f64[ref + L.N_MTIME_F64]!,
      version: i32[w + L.N_VERSION]!,
      cversion: i32[w + L.N_CVERSION]!,
      aversion: i32[w + L.N_AVERSION]!,
      ephemeralOwner: u64(u32[w + L.N_EPH_LO]!, u32[w + L.N_EPH_HI]!),
      dataLength: u32[w + L.N_DATA_LEN]!,
      numChildren: u32[w + L.N_NUM_CHILDREN]!,
    };
  }

  /** A copy of the node's data. */
  data(ref: number): Buffer | Retry {
    const w = ref * 2;
    const len = this.u32[w + L.N_DATA_LEN]!;
    if (len === 0) return Buffer.alloc(0);
    if (len > this.u32[L.H_DATA_BYTES_MAX]!) return RETRY;
    const dref = this.u32[w + L.N_DATA_REF]!;
    const start = dref * L.SLOT_BYTES;
    if (dref < L.HEADER_SLOTS || start + len > this.u8.length) return RETRY;
    const out = Buffer.allocUnsafe(len);
    out.set(this.u8.subarray(start, start + len));
    return out;
  }

  /** The node's name (path after its last '/'). */
  name(ref: number): string {
    const pw = this.u32[ref * 2 + L.N_PATH]!;
    const base = ref * L.SLOT_BYTES + L.NODE_FIXED_BYTES;
    return decodeUtf8(this.u8, base + (pw >>> 16), base + (pw & L.PATH_LEN_MASK));
  }

  /** The node's full path. */
  path(ref: number): string {
    const base = ref * L.SLOT_BYTES + L.NODE_FIXED_BYTES;
    return decodeUtf8(this.u8, base, base + (this.u32[ref * 2 + L.N_PATH]! & L.PATH_LEN_MASK));
  }

  /** Child names of a record that passed recordOk. */
  children(ref: number): string[] | Retry {
    const u32 = this.u32;
    const n = u32[ref * 2 + L.N_NUM_CHILDREN]!;
    if (n > nodeBound(this)) return RETRY;
    const out: string[] = [];
    let c = u32[ref * 2 + L.N_FIRST_CHILD]!;
    while (c !== 0) {
      if (out.length === n || !this.recordOk(c) || u32[c * 2 + L.N_PARENT] !== ref) return RETRY;
      out.push(this.name(c));
      c = u32[c * 2 + L.N_NEXT]!;
    }
    return out.length === n ? out : RETRY;
  }

  /** Number of descendants of a record that passed recordOk (iterative pre-order walk). */
  countDescendants(ref: number): number | Retry {
    const u32 = this.u32;
    const limit = nodeBound(this);
    let count = 0;
    let steps = 2 * limit + 2; // each edge is walked at most twice (down, then up)
    let cur = ref;
    for (;;) {
      const first = u32[cur * 2 + L.N_FIRST_CHILD]!;
      if (first !== 0) {
        cur = first;
      } else {
        // Climb until a node with a next sibling, stopping at the start node.
        for (;;) {
          if (cur === ref) return count;
          const next = u32[cur * 2 + L.N_NEXT]!;
          if (next !== 0) {
            cur = next;
            break;
          }
          cur = u32[cur * 2 + L.N_PARENT]!;
          if (steps-- === 0 || !this.recordOk(cur)) return RETRY;
        }
      }
      if (++count > limit || steps-- === 0 || !this.recordOk(cur)) return RETRY;
    }
  }

  /** The ACL list stored at `index`, or RETRY. Entries are validated against the blob's size. */
  aclAt(index: number): ACL[] | Retry {
    const u32 = this.u32;
    if (index >= u32[L.H_ACL_COUNT]! || index >= u32[L.H_ACL_DIR_CAP]!) return RETRY;
    const dir = u32[L.H_ACL_DIR_REF]!;
    if (dir < L.HEADER_SLOTS || (dir * 2 + index + 1) * 4 > this.u8.length) return RETRY;
    const blob = u32[dir * 2 + index]!;
    if (blob < L.HEADER_SLOTS || blob * L.SLOT_BYTES + 4 > this.u8.length) return RETRY;
    const count = u32[blob * 2]!;
    if (count > constants.aclEntriesMax) return RETRY;
    let w = blob * 2 + 1;
    let b = (w + count * 3) * 4;
    const out: ACL[] = [];
    for (let i = 0; i < count; i++) {
      if ((w + 3) * 4 > this.u8.length) return RETRY;
      const perms = u32[w]!;
      const sLen = u32[w + 1]!;
      const iLen = u32[w + 2]!;
      w += 3;
      if (sLen > PATH_BYTES_MAX * 64 || iLen > PATH_BYTES_MAX * 64 || b + sLen + iLen > this.u8.length) return RETRY;
      const scheme = decodeUtf8(this.u8, b, b + sLen);
      const id = decodeUtf8(this.u8, b + sLen, b + sLen + iLen);
      b += sLen + iLen;
      out.push({ perms, scheme, id });
    }
    return out;
  }

  appliedZxid(): bigint {
    return u64(this.u32[L.H_APPLIED_LO]!, this.u32[L.H_APPLIED_HI]!);
  }
}

/** Encodes an ACL list into the blob format described in layout.ts (a plain Uint8Array). */
export function encodeAcl(acl: readonly ACL[]): Uint8Array {
  const enc = new TextEncoder();
  const parts = acl.map((a) => ({ perms: a.perms, s: enc.encode(a.scheme), i: enc.encode(a.id) }));
  const headWords = 1 + parts.length * 3;
  const bytes = headWords * 4 + parts.reduce((n, p) => n + p.s.length + p.i.length, 0);
  const out = new Uint8Array(bytes);
  const words = new Uint32Array(out.buffer, 0, headWords);
  words[0] = parts.length;
  let b = headWords * 4;
  parts.forEach((p, k) => {
    words[1 + k * 3] = p.perms >>> 0;
    words[2 + k * 3] = p.s.length;
    words[3 + k * 3] = p.i.length;
    out.set(p.s, b);
    out.set(p.i, b + p.s.length);
    b += p.s.length + p.i.length;
  });
  return out;
}

export function u64(lo: number, hi: number): bigint {
  // One BigInt allocation when the value is a safe integer (every zxid of the first 2^21 epochs).
  if (hi < 0x200000) return BigInt(hi * 0x100000000 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function decodeUtf8(u8: Uint8Array, start: number, end: number): string {
  // Node's native decoder has its own ASCII fast path; a JS char-by-char build measured slower
  // (cons strings): 100k names in ~20 ms against ~45 ms.
  return utf8Slice.call(u8, start, end);
}
