// The contract of the shared-memory tree (src/server/tree/). The tree is a storage structure:
// it keeps nodes, their Stat fields, data, ACL references and child links in one growable
// SharedArrayBuffer. It knows nothing of ZooKeeper's update rules: the pipeline decides every
// Stat value (src/server/pipeline/apply.ts) and writes it through TreeWriter.
//
// Threads: exactly one writer (the main thread) and any number of readers (session workers,
// piscina jobs) attached to the same SharedArrayBuffer. Readers use a global seqlock: every read
// is consistent with one applied state (never a torn node, never half of a batch), and reports the
// appliedZxid of the state it saw.
import type { ACL, Stat } from '../../common/types.js';
import type { TreeCapture } from './capture.js';

/** A read taken at one consistent state of the tree. */
export interface Versioned<T> {
  zxid: bigint; // appliedZxid of the state the read saw
  value: T;
}

export interface NodeRead {
  stat: Stat;
  data: Buffer; // a copy, owned by the caller
  aclIndex: number; // see TreeReader.acl()
}

export interface ChildrenRead {
  children: string[]; // names (not paths), order unspecified
  stat: Stat;
  aclIndex: number;
}

/**
 * Reads inside one TreeReader.batch() section: plain values, all from the same applied state.
 * (Added by the tree module: workers need multi-path consistency, e.g. getChildren + each child.)
 */
export interface TreeView {
  stat(path: string): Stat | null;
  getData(path: string, withData?: boolean): NodeRead | null;
  getChildren(path: string): ChildrenRead | null;
  countDescendants(path: string): number | null;
}

export interface TreeReader {
  /**
   * Runs `fn` with reads that all see ONE applied state, and returns its result with that
   * state's zxid. `fn` may run several times (a concurrent write window forces a retry), and on
   * a discarded attempt it may see values of a state being rewritten: it must be a pure function
   * of the reads (no side effects, no unbounded loops driven by read values); an exception it
   * throws during a discarded attempt is swallowed and the attempt retried.
   * On the writer thread it simply runs `fn` once against the current (possibly in-window) state.
   */
  batch<T>(fn: (view: TreeView) => T): Versioned<T>;
  /** The zxid of the last batch whose writes are visible (0n for an empty tree). */
  appliedZxid(): bigint;
  stat(path: string): Versioned<Stat | null>;
  /** withData=false leaves `data` empty (exists + ACL check without copying data). */
  getData(path: string, withData?: boolean): Versioned<NodeRead | null>;
  getChildren(path: string): Versioned<ChildrenRead | null>;
  /** Number of all descendants (ZooKeeper's getAllChildrenNumber), or null if no node. */
  countDescendants(path: string): Versioned<number | null>;
  /** ACL lists are immutable once interned, so a reader may cache them by index forever. */
  acl(aclIndex: number): ACL[];
  nodeCount(): number;
}

/** Fields of a node set at creation. */
export interface NewNode {
  data: Uint8Array;
  aclIndex: number;
  ephemeralOwner: bigint; // raw 64 bits as the pipeline encodes it (session id, container, TTL)
  zxid: bigint; // czxid = mzxid = pzxid
  timeMs: number; // ctime = mtime
}

/** Stat fields the pipeline may change on an existing node. Absent = unchanged. */
export interface StatUpdate {
  mzxid?: bigint;
  pzxid?: bigint;
  mtime?: number;
  version?: number;
  cversion?: number;
  aversion?: number;
  aclIndex?: number;
  /** Next sequential suffix for children created under this node (not client-visible). */
  sequence?: number;
}

export interface TreeWriter extends TreeReader {
  readonly buffer: SharedArrayBuffer;
  /** Opens a write window: readers wait or retry until endWrite. Not re-entrant. */
  beginWrite(): void;
  /** Publishes everything written since beginWrite at once, with `appliedZxid`. */
  endWrite(appliedZxid: bigint): void;

  // Mutations: only between beginWrite and endWrite; they assert their preconditions
  // (parent exists, node absent/present) because the pipeline has already validated them.
  createNode(path: string, node: NewNode): void; // links under the parent; parent.numChildren++
  deleteNode(path: string): void; // node must have no children; parent.numChildren--
  setData(path: string, data: Uint8Array): void; // dataLength follows
  updateStat(path: string, update: StatUpdate): void;
  /** Returns the index of an identical list if one is stored, else stores it. */
  internAcl(acl: ACL[]): number; // also allowed outside a window (then it opens its own)

  // Main-thread lookups for the pipeline (no seqlock needed: the caller is the only writer).
  has(path: string): boolean;
  statOf(path: string): Stat | null;
  aclIndexOf(path: string): number | null;
  sequenceOf(path: string): number | null;
  childNames(path: string): string[] | null;
  dataOf(path: string): Buffer | null;
  /** Every node, parents before children (used to rebuild indexes after recovery). */
  forEachNode(visit: (path: string, stat: Stat) => void): void;
  /** Every node with a non-zero ephemeralOwner (sessions, containers, TTL), parents first. */
  forEachOwnedNode(visit: (path: string, ephemeralOwner: bigint) => void): void;

  /** A consistent copy of the tree's memory (call outside a write window), for snapshots. */
  image(): Uint8Array;
  /**
   * The image at this moment, read later while writes go on (copy-on-write of the pages written;
   * capture.ts). Call outside a write window; close() it when done: while open, every first write
   * to a page of it costs a page copy. Throws SYSTEMERROR past constants.treeCapturesMax open.
   */
  capture(): TreeCapture;
  /**
   * usedBytes: the allocated prefix of the buffer (header + blocks, free-list blocks included),
   * which is also the size of image(); freeListBytes: freed blocks awaiting reuse (added field);
   * capacityBytes: the buffer's current size; maxBytes: the most it can grow to (added field).
   * A write window that runs out of memory throws SYSTEMERROR halfway and cannot be rolled back,
   * so the pipeline should refuse writes while maxBytes - usedBytes is below a safety margin.
   */
  memoryUsage(): { usedBytes: number; freeListBytes: number; capacityBytes: number; maxBytes: number; nodes: number };
}
