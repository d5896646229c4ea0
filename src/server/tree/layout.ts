// Every offset of the shared-memory tree, in one place. The whole tree (header, allocator state,
// path index, node records, data blobs, ACL table) lives in ONE growable SharedArrayBuffer, so a
// reader thread attaches with no copy and an image() is one slice of the used prefix.
//
// Views. Readers and the writer use FIXED-length typed arrays over the growable buffer and
// re-create them when H_CAPACITY_SLOTS changes: on Node 20 (V8 11.3) an element access through a
// length-tracking view costs ~18 ns against ~2 ns for a fixed-length one (bench in shared-memory.md).
//
// Units. Memory is handed out in 8-byte "slots"; a reference ("ref") is a slot number (byte offset
// / 8) stored in a u32, and ref 0 (the header) means null. 8-byte alignment lets the f64 fields of
// a record be read through a Float64Array. SharedArrayBuffer is capped at 4 GiB on this V8, so
// refs never exceed 2^29 and every word index is a small integer.
//
//   byte 0                                   HEADER_BYTES                      usedSlots*8   byteLength
//   +----------------------------------------+------------------------------------+------------+
//   | header: magic, version, SEQ (seqlock),  | blocks: node records, data blobs,  |  unused    |
//   | appliedZxid, usedSlots, nodeCount,      | index buckets, ACL dir + ACL blobs |  (grown on |
//   | index ref/mask, root, ACL dir, limits,  | (freed blocks chained per size     |  demand)   |
//   | free-list heads[CLASS_COUNT]            |  class through their first word)   |            |
//   +----------------------------------------+------------------------------------+------------+
//
// Node record (variable size = NODE_FIXED_BYTES + pathLen, rounded up to its size class):
//
//   word  0  czxid lo          word 13  ephemeralOwner lo     word 21  next sibling ref
//   word  1  czxid hi          word 14  ephemeralOwner hi     word 22  prev sibling ref
//   word  2  mzxid lo          word 15  dataLength            word 23  data blob ref (0 = empty)
//   word  3  mzxid hi          word 16  numChildren           word 24  hash-chain next ref
//   word  4  pzxid lo          word 17  aclIndex              word 25  FNV-1a hash of the path
//   word  5  pzxid hi          word 18  sequence (i32)        word 26  pathLen | nameStart << 16
//   words 6-7  ctime (f64 ms)  word 19  parent ref                     (0 = record is free)
//   words 8-9  mtime (f64 ms)  word 20  first child ref       bytes 108.. path, UTF-8, inline
//   word 10 version (i32)
//   word 11 cversion (i32)
//   word 12 aversion (i32)
//
// A free block: word 0 = next free ref of its class, word 1 = FREE_MAGIC (double-free check).
// ACL blob: word 0 = entry count, then per entry [perms, schemeLen, idLen] words, then the scheme
// and id bytes of every entry in order. The ACL directory is a u32 array of ACL blob refs.

export const MAGIC = 0x52544b5a; // 'ZKTR' read as a little-endian u32
export const FORMAT_VERSION = 1;
export const SLOT_BYTES = 8;
export const FREE_MAGIC = 0xf4eeb10c;

// ---- header (u32 word indices) ----
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_SEQ = 2; // Int32 seqlock: odd while the writer is inside a write window
export const H_WAITERS = 3; // readers currently in Atomics.wait on H_SEQ (writer skips notify at 0)
export const H_APPLIED_LO = 4;
export const H_APPLIED_HI = 5;
export const H_USED_SLOTS = 6; // bump pointer: slots [0, usedSlots) are header or blocks
export const H_NODE_COUNT = 7;
export const H_INDEX_REF = 8; // bucket array: (mask + 1) u32 node refs, chained through N_HASH_NEXT
export const H_INDEX_MASK = 9;
export const H_ROOT_REF = 10;
export const H_ACL_COUNT = 11;
export const H_ACL_DIR_REF = 12;
export const H_ACL_DIR_CAP = 13;
export const H_FREE_SLOTS = 14; // slots sitting on free lists (statistics)
export const H_DATA_BYTES_MAX = 15; // readers treat a larger dataLength as torn
export const H_HEADER_BYTES = 16; // lets image validation check the layout it was written with
export const H_CLASS_COUNT = 17;
export const H_CAPACITY_SLOTS = 18; // buffer size after the last grow(): readers re-create views on change
export const H_FREE_HEADS = 19; // CLASS_COUNT words follow

// ---- size classes ----
// Classes 0..EXACT_SLOTS-1 are exact (1..EXACT_SLOTS slots: 8..4096 bytes, waste < 8 bytes), so
// small paths and data waste almost nothing. Above that, 8 classes per doubling (waste <= 12.5%).
export const EXACT_SLOTS = 512;
const EXACT_BITS = 10; // bit length of EXACT_SLOTS (so of s - 1 for the first large size)
export const CLASS_COUNT = EXACT_SLOTS + (32 - EXACT_BITS) * 8;
export const HEADER_BYTES = roundUp((H_FREE_HEADS + CLASS_COUNT) * 4, 64);
export const HEADER_SLOTS = HEADER_BYTES / SLOT_BYTES;

// ---- node record (u32 word offsets from ref * 2) ----
export const N_CZXID_LO = 0;
export const N_CZXID_HI = 1;
export const N_MZXID_LO = 2;
export const N_MZXID_HI = 3;
export const N_PZXID_LO = 4;
export const N_PZXID_HI = 5;
export const N_CTIME_F64 = 3; // Float64Array offset from ref (words 6-7)
export const N_MTIME_F64 = 4; // Float64Array offset from ref (words 8-9)
export const N_VERSION = 10;
export const N_CVERSION = 11;
export const N_AVERSION = 12;
export const N_EPH_LO = 13;
export const N_EPH_HI = 14;
export const N_DATA_LEN = 15;
export const N_NUM_CHILDREN = 16;
export const N_ACL = 17;
export const N_SEQUENCE = 18;
export const N_PARENT = 19;
export const N_FIRST_CHILD = 20;
export const N_NEXT = 21;
export const N_PREV = 22;
export const N_DATA_REF = 23;
export const N_HASH_NEXT = 24;
export const N_HASH = 25;
export const N_PATH = 26; // pathLen (low 16 bits) | nameStart << 16; 0 marks a free record
export const NODE_FIXED_BYTES = 27 * 4; // path bytes start here
export const PATH_LEN_MASK = 0xffff;

// ---- index ----
export const INDEX_INITIAL_BUCKETS = 1024;
export const INDEX_LOAD_MAX = 0.75;

/** Hard ceiling of a growable SharedArrayBuffer on this V8 (larger maxByteLength throws). */
export const SAB_BYTES_MAX = 2 ** 32;

export function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Size class of a block of `slots` slots (slots >= 1). */
export function classOfSlots(slots: number): number {
  if (slots <= EXACT_SLOTS) return slots - 1;
  const b = 32 - Math.clz32(slots - 1); // s - 1 < 2^b, b >= EXACT_BITS
  const shift = b - 4;
  const q = (slots - 1) >>> shift; // 8..15
  return EXACT_SLOTS + (b - EXACT_BITS) * 8 + (q - 8);
}

/** Slots of a block of class `cls` (the largest size the class holds). */
export function slotsOfClass(cls: number): number {
  if (cls < EXACT_SLOTS) return cls + 1;
  const k = cls - EXACT_SLOTS;
  const b = EXACT_BITS + (k >>> 3);
  const q = 8 + (k & 7);
  return (q + 1) * 2 ** (b - 4);
}

export function slotsFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / SLOT_BYTES));
}
