// The shared-memory tree: createTree / treeFromImage on the main thread (the only writer),
// attachTree in worker threads. Layout: layout.ts; protocol: native-notes/shared-memory.md.
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import { OPEN_ACL_UNSAFE } from '../../common/types.js';
import type { TreeReader, TreeWriter } from './api.js';
import { alloc, newGrowableSab } from './alloc.js';
import { TreeMemory } from './core.js';
import * as L from './layout.js';
import { SharedTreeReader } from './reader.js';
import { SharedTreeWriter } from './writer.js';
import { validateImage, verifyMemory } from './verify.js';

export type { ChildrenRead, NewNode, NodeRead, StatUpdate, TreeReader, TreeView, TreeWriter, Versioned } from './api.js';
export { validateImage, verifyTree } from './verify.js';
export { type CaptureHandle, readCaptureInto, TreeCapture } from './capture.js';

export interface TreeOptions {
  /** Initial buffer size (grown in place on demand). Default constants.treeInitialBytes. */
  initialBytes?: number;
  /** Reserved address space; at most 4 GiB (V8's limit). Default min(constants.treeMaxBytes, 4 GiB). */
  maxBytes?: number;
  /** Largest data a node may hold (readers treat larger lengths as torn). Default constants.dataBytesMax. */
  dataBytesMax?: number;
  /** treeFromImage only: walk and check every structure after loading (default true). */
  verify?: boolean;
}

/** ZooKeeper's reserved nodes, present in every fresh tree. */
export const reservedNodes = ['/zookeeper', '/zookeeper/quota', '/zookeeper/config'] as const;

export function createTree(opts: TreeOptions = {}): TreeWriter {
  const { initialBytes, maxBytes } = sizes(opts, 0);
  const m = new TreeMemory(newGrowableSab(initialBytes, maxBytes));
  initHeader(m, opts.dataBytesMax ?? constants.dataBytesMax);
  const w = new SharedTreeWriter(m);
  w.beginWrite();
  const aclIndex = w.internAcl(OPEN_ACL_UNSAFE);
  assert(aclIndex === 0, 'the open ACL is index 0');
  for (const path of reservedNodes) {
    w.createNode(path, { data: new Uint8Array(0), aclIndex, ephemeralOwner: 0n, zxid: 0n, timeMs: 0 });
  }
  w.endWrite(0n);
  return w;
}

/** Rebuilds a writer from image() bytes (snapshot load): one copy into a new buffer + checks. */
export function treeFromImage(bytes: Uint8Array, opts: TreeOptions = {}): TreeWriter {
  validateImage(bytes);
  const { initialBytes, maxBytes } = sizes(opts, bytes.length);
  const m = new TreeMemory(newGrowableSab(initialBytes, maxBytes));
  m.u8.set(bytes);
  return adopt(m, opts);
}

/**
 * A fresh tree buffer for a snapshot loader to read an image of `bytes` bytes into, so that
 * loading touches the memory once (on this VM first-touching 300 MB costs ~1.5 s; a second copy
 * would double it). Pass the filled view to treeFromLoadedImage.
 */
export function allocTreeImage(bytes: number, opts: TreeOptions = {}): Uint8Array {
  const { initialBytes, maxBytes } = sizes(opts, bytes);
  return new Uint8Array(newGrowableSab(initialBytes, maxBytes), 0, bytes);
}

/** The zxid an image() was taken at, from its header (validated first: throws on a bad one). */
export function imageAppliedZxid(bytes: Uint8Array): bigint {
  validateImage(bytes);
  // validateImage refused the other byte order, so the header words are little endian here.
  const h = new DataView(bytes.buffer, bytes.byteOffset, L.HEADER_BYTES);
  return (BigInt(h.getUint32(L.H_APPLIED_HI * 4, true)) << 32n) | BigInt(h.getUint32(L.H_APPLIED_LO * 4, true));
}

/** Adopts a view from allocTreeImage, filled with image() bytes, without copying it. */
export function treeFromLoadedImage(view: Uint8Array, opts: TreeOptions = {}): TreeWriter {
  assert(view.buffer instanceof SharedArrayBuffer && view.byteOffset === 0, 'a view from allocTreeImage');
  validateImage(view);
  return adopt(new TreeMemory(view.buffer), opts);
}

function adopt(m: TreeMemory, opts: TreeOptions): TreeWriter {
  m.i32[L.H_SEQ] = 0; // an image is taken outside a window; the new buffer starts even anyway
  m.i32[L.H_WAITERS] = 0;
  m.u32[L.H_CAPACITY_SLOTS] = m.u8.length / L.SLOT_BYTES;
  if (opts.dataBytesMax !== undefined && opts.dataBytesMax > m.u32[L.H_DATA_BYTES_MAX]!) {
    m.u32[L.H_DATA_BYTES_MAX] = opts.dataBytesMax;
  }
  // The header checks above keep this walk in bounds; it proves every structure before use.
  if (opts.verify !== false) verifyMemory(m);
  return new SharedTreeWriter(m);
}

/** A reader over a tree created in another thread (pass writer.buffer through workerData). */
export function attachTree(buffer: SharedArrayBuffer): TreeReader {
  return new SharedTreeReader(buffer);
}

function sizes(opts: TreeOptions, atLeast: number): { initialBytes: number; maxBytes: number } {
  // Whole 64 KiB steps keep every capacity a multiple of the slot size.
  const maxBytes = Math.floor(Math.min(opts.maxBytes ?? constants.treeMaxBytes, L.SAB_BYTES_MAX) / 65536) * 65536;
  const want = Math.max(opts.initialBytes ?? constants.treeInitialBytes, atLeast, L.HEADER_BYTES + 16384);
  const initialBytes = Math.min(L.roundUp(want, 65536), maxBytes);
  assert(initialBytes >= atLeast, () => `tree image of ${atLeast} bytes exceeds maxBytes ${maxBytes}`);
  return { initialBytes, maxBytes };
}

function initHeader(m: TreeMemory, dataBytesMax: number): void {
  assert(Number.isInteger(dataBytesMax) && dataBytesMax > 0 && dataBytesMax < 2 ** 31, 'dataBytesMax');
  const u32 = m.u32;
  u32[L.H_MAGIC] = L.MAGIC;
  u32[L.H_VERSION] = L.FORMAT_VERSION;
  u32[L.H_HEADER_BYTES] = L.HEADER_BYTES;
  u32[L.H_CLASS_COUNT] = L.CLASS_COUNT;
  u32[L.H_DATA_BYTES_MAX] = dataBytesMax;
  u32[L.H_USED_SLOTS] = L.HEADER_SLOTS;
  u32[L.H_CAPACITY_SLOTS] = m.u8.length / L.SLOT_BYTES;
  // The buffer is fresh (zeroed), so new blocks need no clearing here.
  const table = alloc(m, L.INDEX_INITIAL_BUCKETS * 4);
  u32[L.H_INDEX_REF] = table;
  u32[L.H_INDEX_MASK] = L.INDEX_INITIAL_BUCKETS - 1;
  const aclDirCap = 16;
  u32[L.H_ACL_DIR_REF] = alloc(m, aclDirCap * 4);
  u32[L.H_ACL_DIR_CAP] = aclDirCap;
  // The root: a record with path "/" (nameStart 1: an empty name) and no parent.
  const root = alloc(m, L.NODE_FIXED_BYTES + 1);
  m.u8[root * L.SLOT_BYTES + L.NODE_FIXED_BYTES] = 0x2f;
  u32[root * 2 + L.N_PATH] = 1 | (1 << 16);
  const len = m.encodePath('/');
  const h = m.hashScratch(len);
  u32[root * 2 + L.N_HASH] = h;
  u32[table * 2 + (h & (L.INDEX_INITIAL_BUCKETS - 1))] = root;
  u32[L.H_ROOT_REF] = root;
  u32[L.H_NODE_COUNT] = 1;
}
