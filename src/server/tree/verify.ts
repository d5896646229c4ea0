// Checks of a tree's memory: validateImage() looks at an image's header before it is loaded;
// verifyMemory() walks every structure (nodes, links, index, free lists, ACLs) and is run on every
// loaded image and by the tests after each step. A failure is a corrupt image or a bug, reported
// with a plain Error naming what is wrong (a snapshot file is input, not an invariant).
import { RETRY, TreeMemory } from './core.js';
import * as L from './layout.js';
import type { TreeWriter } from './api.js';

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`invalid tree image: ${what}`);
}

export function validateImage(bytes: Uint8Array): void {
  check(bytes instanceof Uint8Array, 'not bytes');
  check(bytes.length >= L.HEADER_BYTES, `${bytes.length} bytes is smaller than a header`);
  const h = new Uint32Array(bytes.slice(0, L.HEADER_BYTES).buffer);
  const at = (i: number): number => h[i]!;
  const swapped = ((L.MAGIC & 0xff) << 24) | ((L.MAGIC & 0xff00) << 8) | ((L.MAGIC >>> 8) & 0xff00) | (L.MAGIC >>> 24);
  check(at(L.H_MAGIC) !== swapped >>> 0, 'written on a machine of the other byte order');
  check(at(L.H_MAGIC) === L.MAGIC, 'bad magic (not a zookooper tree image)');
  check(at(L.H_VERSION) === L.FORMAT_VERSION, `format version ${at(L.H_VERSION)}, this build reads ${L.FORMAT_VERSION}`);
  check(at(L.H_HEADER_BYTES) === L.HEADER_BYTES && at(L.H_CLASS_COUNT) === L.CLASS_COUNT, 'header layout differs');
  const used = at(L.H_USED_SLOTS);
  check(used * L.SLOT_BYTES === bytes.length, `used region ${used * L.SLOT_BYTES} bytes but image is ${bytes.length}`);
  check((at(L.H_SEQ) & 1) === 0, 'taken inside a write window');
  const inUsed = (ref: number, bytesLen: number): boolean => ref >= L.HEADER_SLOTS && ref * L.SLOT_BYTES + bytesLen <= bytes.length;
  const buckets = at(L.H_INDEX_MASK) + 1;
  check(buckets >= L.INDEX_INITIAL_BUCKETS && (buckets & (buckets - 1)) === 0, 'index size not a power of two');
  check(inUsed(at(L.H_INDEX_REF), buckets * 4), 'index outside the image');
  check(inUsed(at(L.H_ROOT_REF), L.NODE_FIXED_BYTES + 1), 'root outside the image');
  check(at(L.H_NODE_COUNT) >= 1, 'no nodes');
  check(at(L.H_NODE_COUNT) <= buckets * L.INDEX_LOAD_MAX, 'index overloaded');
  check(at(L.H_ACL_COUNT) >= 1 && at(L.H_ACL_COUNT) <= at(L.H_ACL_DIR_CAP), 'ACL count');
  check(inUsed(at(L.H_ACL_DIR_REF), at(L.H_ACL_DIR_CAP) * 4), 'ACL directory outside the image');
  check(at(L.H_DATA_BYTES_MAX) > 0, 'dataBytesMax');
  for (let c = 0; c < L.CLASS_COUNT; c++) {
    const head = at(L.H_FREE_HEADS + c);
    check(head === 0 || inUsed(head, L.slotsOfClass(c) * L.SLOT_BYTES), `free list ${c} head outside the image`);
  }
}

/** Full structural check of a writer's tree (tests; cost O(nodes + free blocks)). */
export function verifyTree(w: TreeWriter): void {
  verifyMemory(new TreeMemory(w.buffer));
}

export function verifyMemory(m: TreeMemory): void {
  const u32 = m.u32;
  const used = u32[L.H_USED_SLOTS]!;
  const inUsed = (ref: number, bytes: number): boolean => ref >= L.HEADER_SLOTS && ref * L.SLOT_BYTES + bytes <= used * L.SLOT_BYTES;
  const nodeCount = u32[L.H_NODE_COUNT]!;
  const aclCount = u32[L.H_ACL_COUNT]!;
  const dataMax = u32[L.H_DATA_BYTES_MAX]!;
  const root = u32[L.H_ROOT_REF]!;
  check(m.recordOk(root) && (u32[root * 2 + L.N_PATH]! & L.PATH_LEN_MASK) === 1, 'root record');

  // Nodes: pre-order walk over child links.
  let seen = 0;
  let cur = root;
  for (;;) {
    check(++seen <= nodeCount, 'more nodes reachable than nodeCount (cycle?)');
    check(m.recordOk(cur), `node record at ${cur}`);
    const w = cur * 2;
    const pathLen = u32[w + L.N_PATH]! & L.PATH_LEN_MASK;
    check(inUsed(cur, L.NODE_FIXED_BYTES + pathLen), `node ${cur} outside the used region`);
    const base = cur * L.SLOT_BYTES + L.NODE_FIXED_BYTES;
    let h = 0x811c9dc5;
    for (let i = 0; i < pathLen; i++) h = Math.imul(h ^ m.u8[base + i]!, 0x01000193);
    check(h >>> 0 === u32[w + L.N_HASH], `stored hash of node ${cur}`);
    check(indexHas(m, cur), `node ${cur} missing from the index`);
    const dataLen = u32[w + L.N_DATA_LEN]!;
    check(dataLen <= dataMax, `dataLength of node ${cur}`);
    check(dataLen === 0 ? u32[w + L.N_DATA_REF] === 0 : inUsed(u32[w + L.N_DATA_REF]!, dataLen), `data blob of node ${cur}`);
    check(u32[w + L.N_ACL]! < aclCount, `aclIndex of node ${cur}`);
    // Children: the doubly linked list agrees with numChildren and parent links.
    let n = 0;
    let prev = 0;
    for (let c = u32[w + L.N_FIRST_CHILD]!; c !== 0; c = u32[c * 2 + L.N_NEXT]!) {
      check(++n <= nodeCount && m.recordOk(c), `child list of node ${cur}`);
      check(u32[c * 2 + L.N_PARENT] === cur && u32[c * 2 + L.N_PREV] === prev, `links of child ${c}`);
      prev = c;
    }
    check(n === u32[w + L.N_NUM_CHILDREN], `numChildren of node ${cur}`);
    const first = u32[w + L.N_FIRST_CHILD]!;
    if (first !== 0) {
      cur = first;
      continue;
    }
    for (let up = 0; cur !== root && u32[cur * 2 + L.N_NEXT] === 0; up++) {
      check(up < L.PATH_LEN_MASK, 'parent links loop');
      cur = u32[cur * 2 + L.N_PARENT]!;
      check(m.recordOk(cur), `parent record at ${cur}`);
    }
    if (cur === root) break;
    cur = u32[cur * 2 + L.N_NEXT]!;
  }
  check(seen === nodeCount, `nodeCount ${nodeCount} but ${seen} nodes reachable`);

  // Index: every chain entry is a live node, and the chains hold exactly nodeCount entries.
  const table = u32[L.H_INDEX_REF]!;
  const buckets = u32[L.H_INDEX_MASK]! + 1;
  let indexed = 0;
  for (let b = 0; b < buckets; b++) {
    for (let r = u32[table * 2 + b]!; r !== 0; r = u32[r * 2 + L.N_HASH_NEXT]!) {
      check(++indexed <= nodeCount && m.recordOk(r), `index bucket ${b}`);
      check((u32[r * 2 + L.N_HASH]! & (buckets - 1)) === b, `node ${r} in the wrong bucket`);
    }
  }
  check(indexed === nodeCount, `index holds ${indexed} nodes, nodeCount ${nodeCount}`);

  // Free lists: marked blocks inside the used region, adding up to H_FREE_SLOTS.
  let freeSlots = 0;
  for (let c = 0; c < L.CLASS_COUNT; c++) {
    const slots = L.slotsOfClass(c);
    for (let r = u32[L.H_FREE_HEADS + c]!; r !== 0; r = u32[r * 2]!) {
      check(inUsed(r, slots * L.SLOT_BYTES) && u32[r * 2 + 1] === L.FREE_MAGIC, `free block ${r} of class ${c}`);
      freeSlots += slots;
      check(freeSlots <= used, `free list ${c} loops`);
    }
  }
  check(freeSlots === u32[L.H_FREE_SLOTS], 'free-list total');

  for (let i = 0; i < aclCount; i++) check(m.aclAt(i) !== RETRY, `ACL list ${i}`);
}

function indexHas(m: TreeMemory, ref: number): boolean {
  const u32 = m.u32;
  const mask = u32[L.H_INDEX_MASK]!;
  let steps = u32[L.H_NODE_COUNT]!;
  for (let r = u32[u32[L.H_INDEX_REF]! * 2 + (u32[ref * 2 + L.N_HASH]! & mask)]!; r !== 0 && steps-- > 0; r = u32[r * 2 + L.N_HASH_NEXT]!) {
    if (r === ref) return true;
  }
  return false;
}
