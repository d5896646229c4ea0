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

export interface TreeReader {
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
  internAcl(acl: ACL[]): number;

  // Main-thread lookups for the pipeline (no seqlock needed: the caller is the only writer).
  has(path: string): boolean;
  statOf(path: string): Stat | null;
  aclIndexOf(path: string): number | null;
  sequenceOf(path: string): number | null;
  childNames(path: string): string[] | null;
  dataOf(path: string): Buffer | null;
  /** Every node, parents before children (used to rebuild indexes after recovery). */
  forEachNode(visit: (path: string, stat: Stat) => void): void;

  /** A consistent copy of the tree's memory (call outside a write window), for snapshots. */
  image(): Uint8Array;
  memoryUsage(): { usedBytes: number; capacityBytes: number; nodes: number };
}
