// Outstanding changes: the state the prepared-but-not-yet-applied transactions will leave behind
// (ZooKeeper's outstandingChanges / ChangeRecord). Prep reads a node through these layers:
//
//   Scratch (one request's own changes, dropped if the request fails — a multi is all or nothing)
//     -> PendingChanges (every prepared txn not yet applied, newest per path)
//       -> the tree (applied state)
//
// When the txn with zxid Z is applied, every pending change with zxid <= Z is already in the
// tree and is dropped, so a lookup falls through to the same values.
import { assert } from '../../common/assert.js';
import type { ACL, Stat } from '../../common/types.js';
import type { TreeWriter } from '../tree/api.js';

/** What prep needs to know of a node. `stat.ephemeralOwner` is the raw encoding (owner.ts). */
export interface NodeState {
  stat: Stat;
  sequence: number; // creations of children so far (the next sequential suffix)
  acl: ACL[];
}

export interface NodeLookup {
  get(path: string): NodeState | null;
}

interface Change {
  zxid: bigint;
  node: NodeState | null; // null: deleted by a pending txn
}

export class PendingChanges implements NodeLookup {
  private readonly byPath = new Map<string, Change>();
  // FIFO of (zxid, path) in prep order; zxids never decrease along it.
  private readonly order: { zxid: bigint; path: string }[] = [];
  private head = 0;

  constructor(private readonly tree: TreeWriter) {}

  get(path: string): NodeState | null {
    const c = this.byPath.get(path);
    if (c !== undefined) return c.node;
    return readTree(this.tree, path);
  }

  get size(): number {
    return this.byPath.size;
  }

  record(path: string, node: NodeState | null, zxid: bigint): void {
    const last = this.order[this.order.length - 1];
    assert(last === undefined || last.zxid <= zxid, 'pending changes arrive in zxid order');
    this.byPath.set(path, { zxid, node });
    this.order.push({ zxid, path });
  }

  /** The txns up to `zxid` are in the tree now: forget what they changed. */
  applied(zxid: bigint): void {
    while (this.head < this.order.length) {
      const o = this.order[this.head]!;
      if (o.zxid > zxid) break;
      const c = this.byPath.get(o.path);
      if (c !== undefined && c.zxid <= zxid) this.byPath.delete(o.path);
      this.head++;
    }
    // Compact once the consumed prefix dominates, so the array stays bounded by what is pending.
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    if (this.head === this.order.length) assert(this.byPath.size === 0, 'no pending change outlives its txn');
  }

  /** Paths with a pending change and the state it leaves (for closeSession's ephemeral list). */
  entries(): IterableIterator<[string, Change]> {
    return this.byPath.entries();
  }
}

/** One request's tentative changes on top of the pending ones; merged only if it succeeds. */
export class Scratch implements NodeLookup {
  private readonly changes = new Map<string, NodeState | null>();

  constructor(private readonly base: NodeLookup) {}

  get(path: string): NodeState | null {
    const c = this.changes.get(path);
    return c !== undefined ? c : this.base.get(path);
  }

  set(path: string, node: NodeState | null): void {
    this.changes.set(path, node);
  }

  mergeInto(pending: PendingChanges, zxid: bigint): void {
    for (const [path, node] of this.changes) pending.record(path, node, zxid);
  }
}

export function readTree(tree: TreeWriter, path: string): NodeState | null {
  const stat = tree.statOf(path);
  if (stat === null) return null;
  const sequence = tree.sequenceOf(path);
  const aclIndex = tree.aclIndexOf(path);
  assert(sequence !== null && aclIndex !== null, () => `tree node ${path} lacks sequence or acl`);
  return { stat, sequence, acl: tree.acl(aclIndex) };
}
