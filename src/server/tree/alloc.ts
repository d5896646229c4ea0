// The allocator inside the SharedArrayBuffer (writer thread only, inside a write window).
// Size-classed free lists + a bump pointer, all state in the header so an image carries it.
// Blocks have no header: the owner always knows a block's size (a record from its path length,
// a data blob from dataLength, a table from its capacity), and size -> class is a pure function.
// No coalescing: ZooKeeper workloads churn same-sized nodes, and exact classes up to 4 KiB make
// reuse likely; the free-list total is reported in memoryUsage() so fragmentation is visible.
// Bumped memory needs no TreeMemory.touch: it lies beyond every open capture's image.
import { assert } from '../../common/assert.js';
import { ZookooperError } from '../../common/errors.js';
import * as L from './layout.js';
import type { TreeMemory } from './core.js';

interface GrowableSab extends SharedArrayBuffer {
  grow(newByteLength: number): void;
  readonly maxByteLength: number;
}

export function newGrowableSab(bytes: number, maxBytes: number): SharedArrayBuffer {
  const Ctor = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => GrowableSab;
  return new Ctor(bytes, { maxByteLength: maxBytes });
}

const GROW_STEP_MIN_BYTES = 1 << 20;
const GROW_DOUBLING_BELOW_BYTES = 256 * 1_048_576;

/** Slots of the block that holds `bytes` bytes. */
export function blockSlots(bytes: number): number {
  return L.slotsOfClass(L.classOfSlots(L.slotsFor(bytes)));
}

export function alloc(m: TreeMemory, bytes: number): number {
  assert(bytes > 0, 'alloc of zero bytes');
  const u32 = m.u32;
  const cls = L.classOfSlots(L.slotsFor(bytes));
  const slots = L.slotsOfClass(cls);
  const head = u32[L.H_FREE_HEADS + cls]!;
  if (head !== 0) {
    assert(u32[head * 2 + 1] === L.FREE_MAGIC, 'free-list block lost its free mark');
    m.touch(head * L.SLOT_BYTES, head * L.SLOT_BYTES + 8);
    u32[L.H_FREE_HEADS + cls] = u32[head * 2]!;
    u32[head * 2] = 0;
    u32[head * 2 + 1] = 0;
    u32[L.H_FREE_SLOTS] = u32[L.H_FREE_SLOTS]! - slots;
    return head;
  }
  const ref = u32[L.H_USED_SLOTS]!;
  const end = (ref + slots) * L.SLOT_BYTES;
  if (end > m.u8.length) grow(m, end);
  m.u32[L.H_USED_SLOTS] = ref + slots; // m.u32, not u32: grow() replaced the views
  return ref;
}

export function free(m: TreeMemory, ref: number, bytes: number): void {
  const u32 = m.u32;
  assert(ref >= L.HEADER_SLOTS, 'free of a header ref');
  assert(ref < u32[L.H_USED_SLOTS]!, 'free beyond the used region');
  const cls = L.classOfSlots(L.slotsFor(bytes));
  const slots = L.slotsOfClass(cls);
  assert(ref + slots <= u32[L.H_USED_SLOTS]!, 'freed block overruns the used region');
  if (u32[ref * 2 + 1] === L.FREE_MAGIC) {
    // The mark can be a coincidence in live data: only a hit on the free list is a double free.
    let cur = u32[L.H_FREE_HEADS + cls]!;
    for (let steps = u32[L.H_FREE_SLOTS]!; cur !== 0 && steps >= 0; steps--) {
      assert(cur !== ref, () => `allocator double free of ref ${ref}`);
      cur = u32[cur * 2]!;
    }
  }
  m.touch(ref * L.SLOT_BYTES, ref * L.SLOT_BYTES + 8);
  u32[ref * 2] = u32[L.H_FREE_HEADS + cls]!;
  u32[ref * 2 + 1] = L.FREE_MAGIC;
  u32[L.H_FREE_HEADS + cls] = ref;
  u32[L.H_FREE_SLOTS] = u32[L.H_FREE_SLOTS]! + slots;
}

/** Grows the buffer in place (same memory, views track it) to hold at least `needBytes`. */
function grow(m: TreeMemory, needBytes: number): void {
  const sab = m.buffer as GrowableSab;
  const cap = sab.byteLength;
  const max = sab.maxByteLength;
  if (needBytes > max) {
    // Not an invariant violation: the configured memory is full. The pipeline must keep headroom
    // (memoryUsage()) because a window that fails halfway cannot be rolled back.
    throw new ZookooperError('SYSTEMERROR', `tree memory exhausted: need ${needBytes} bytes, max ${max}`);
  }
  const step = cap < GROW_DOUBLING_BELOW_BYTES ? cap : Math.floor(cap / 2);
  const target = Math.min(max, L.roundUp(Math.max(needBytes, cap + Math.max(step, GROW_STEP_MIN_BYTES)), 65536));
  sab.grow(target);
  m.refresh();
  assert(m.u8.length === target, 'views cover the grown buffer');
  m.u32[L.H_CAPACITY_SLOTS] = target / L.SLOT_BYTES; // tells readers to re-create their views
}
