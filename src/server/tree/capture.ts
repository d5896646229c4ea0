// A capture: the tree's image at one zxid, read later while the writer goes on (copy-on-write of
// pages). Taking one copies nothing but the header page; from then on, before the writer changes
// a page of the captured prefix for the first time, it saves that page's old bytes (TreeMemory.
// touch). Reading the image takes each page from its saved copy if it has one, else from the live
// tree, which has not changed there since the capture. So a SNAP or a snapshot file of a tree of
// any size costs the write path a 4 KiB copy per page first written while it is read, instead of
// one copy of the whole image on the main thread (263 ms+ for a million znodes, stalling writes).
//
// The saved pages and their index live in SharedArrayBuffers, so a worker thread can read the
// capture while the main thread writes (the snapshot job). Its protocol per page: copy the live
// page, THEN load the page's index entry; if the page was saved (before or during the copy), copy
// the saved bytes over it. The writer saves and publishes the index entry (an SC store) before its
// first plain write to the page, so a reader that still sees no entry read bytes written before
// the capture; the same ordering argument as the tree's seqlock (native-notes/shared-memory.md).
//
// Memory: saved pages are at most the captured image's size (every page written while it is
// open), never more; an untouched page costs nothing (the pages buffer is reserved, not filled).
import { assert } from '../../common/assert.js';
import { constants } from '../../common/constants.js';
import { ZookooperError } from '../../common/errors.js';
import type { TreeMemory } from './core.js';
import * as L from './layout.js';

const PAGE_BYTES = constants.treeCapturePageBytes;
const PAGE_SHIFT = Math.log2(PAGE_BYTES);
assert(Number.isInteger(PAGE_SHIFT) && PAGE_BYTES >= L.HEADER_BYTES, 'a capture page is a power of two holding the header');

/** What a thread needs to read a capture: plain data and SharedArrayBuffers (structured-clonable). */
export interface CaptureHandle {
  tree: SharedArrayBuffer;
  /** Int32 per page: 0 = not saved (read the live tree), k = saved in slot k - 1 of `pages`. */
  index: SharedArrayBuffer;
  pages: SharedArrayBuffer;
  /** The image's length: the tree's used prefix at the capture. */
  bytes: number;
}

/** The writer side: created by TreeWriter.capture(), kept current by TreeMemory.touch. */
export class TreeCapture {
  readonly handle: CaptureHandle;
  readonly zxid: bigint;
  private readonly index: Int32Array;
  private readonly pages: Uint8Array;
  private readonly pageCount: number;
  private savedPages = 0;
  private open = true;

  constructor(
    private readonly m: TreeMemory,
    bytes: number,
    zxid: bigint,
  ) {
    this.zxid = zxid;
    this.pageCount = Math.ceil(bytes / PAGE_BYTES);
    const index = new SharedArrayBuffer(this.pageCount * 4);
    // The whole worst case is reserved at once; the kernel maps only the slots written.
    const pages = new SharedArrayBuffer(this.pageCount * PAGE_BYTES);
    this.index = new Int32Array(index);
    this.pages = new Uint8Array(pages);
    this.handle = { tree: m.buffer, index, pages, bytes };
    // The header changes with every write (counts, free-list heads, seqlock): saved up front, so
    // the writer's header stores need no touch calls.
    this.save(0);
  }

  get bytes(): number {
    return this.handle.bytes;
  }

  /** Pages saved so far (each PAGE_BYTES of memory). */
  get savedPageCount(): number {
    return this.savedPages;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Saves every captured page of bytes [start, end) not saved yet (the writer is about to change them). */
  preserve(start: number, end: number): void {
    const stop = Math.min(end, this.handle.bytes);
    if (start >= stop) return;
    const last = (stop - 1) >>> PAGE_SHIFT;
    for (let p = start >>> PAGE_SHIFT; p <= last; p++) if (this.index[p] === 0) this.save(p);
  }

  /** The image's bytes [offset, offset + into.length) into `into` (any thread may do this via readCapture). */
  readInto(offset: number, into: Uint8Array): void {
    assert(this.open, 'read of a closed capture');
    readCaptureInto(this.handle, offset, into, this.m.u8);
  }

  /** A copy of the image's bytes [offset, min(offset + maxBytes, bytes)). */
  read(offset: number, maxBytes: number): Uint8Array {
    const n = Math.max(0, Math.min(maxBytes, this.handle.bytes - offset));
    const out = Buffer.allocUnsafe(n);
    this.readInto(offset, out);
    return out;
  }

  /** Stops saving pages and lets go of them. Reading after this is a bug. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.m.captures.splice(this.m.captures.indexOf(this), 1);
  }

  private save(p: number): void {
    const from = p * PAGE_BYTES;
    const n = Math.min(PAGE_BYTES, this.handle.bytes - from);
    const slot = this.savedPages++;
    this.pages.set(this.m.u8.subarray(from, from + n), slot * PAGE_BYTES);
    Atomics.store(this.index, p, slot + 1); // published before the writer's first store to the page
  }
}

/** Opens a capture of the tree's current state (the writer calls this outside a write window). */
export function openCapture(m: TreeMemory, bytes: number, zxid: bigint): TreeCapture {
  if (m.captures.length >= constants.treeCapturesMax) {
    throw new ZookooperError('SYSTEMERROR', `${m.captures.length} tree captures open already (max ${constants.treeCapturesMax})`);
  }
  const c = new TreeCapture(m, bytes, zxid);
  m.captures.push(c);
  return c;
}

/**
 * The capture's bytes [offset, offset + into.length) into `into`, from any thread: the live tree
 * first, then the saved copy of every page saved by now (see the protocol at the top).
 */
export function readCaptureInto(h: CaptureHandle, offset: number, into: Uint8Array, liveView?: Uint8Array): void {
  const end = offset + into.length;
  assert(offset >= 0 && end <= h.bytes, () => `capture read [${offset}, ${end}) outside its ${h.bytes} bytes`);
  if (into.length === 0) return;
  const live = liveView ?? new Uint8Array(h.tree, 0, h.bytes);
  into.set(live.subarray(offset, end));
  const index = new Int32Array(h.index);
  const pages = new Uint8Array(h.pages);
  for (let p = offset >>> PAGE_SHIFT; p <= (end - 1) >>> PAGE_SHIFT; p++) {
    const k = Atomics.load(index, p);
    if (k === 0) continue;
    const pageStart = p * PAGE_BYTES;
    const from = Math.max(offset, pageStart);
    const to = Math.min(end, pageStart + PAGE_BYTES);
    const slot = (k - 1) * PAGE_BYTES;
    into.set(pages.subarray(slot + (from - pageStart), slot + (to - pageStart)), from - offset);
  }
}
