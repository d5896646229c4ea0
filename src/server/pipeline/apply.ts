// Applying a transaction to the tree: ZooKeeper's DataTree.processTxn. The single apply path for
// both a fresh commit and a replay at recovery, so the two cannot drift. Prep has already decided
// every value; apply asserts that the tree is in the state prep saw (a txn that does not fit is a
// loud bug, never skipped) and returns the watch triggers. On a server other than the leader it
// also derives each op's answer from the txn and the tree right after the op (applyTxn's
// `outcomes`), so the server holding the client's session answers exactly as the leader's prep did.
import { assert, unreachable } from '../../common/assert.js';
import { parentPath } from '../../common/paths.js';
import type { TreeWriter } from '../tree/api.js';
import type { ChangeEvent } from './api.js';
import { clientStat, ownerKind } from './owner.js';
import type { OpOutcome } from './prep.js';
import type { Txn, TxnOp } from './txn.js';

/**
 * Indexes of the applied tree kept beside it (ZooKeeper's DataTree.ephemerals/containers/ttls):
 * session -> its ephemeral paths, and the container and TTL nodes the sweeper examines.
 * Rebuildable from the tree at any time (rebuild()).
 */
export class NodeIndexes {
  readonly ephemerals = new Map<bigint, Set<string>>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();

  static rebuild(tree: TreeWriter): NodeIndexes {
    const idx = new NodeIndexes();
    tree.forEachOwnedNode((path, owner) => idx.added(path, owner));
    return idx;
  }

  added(path: string, owner: bigint): void {
    switch (ownerKind(owner)) {
      case 'none':
        return;
      case 'container':
        this.containers.add(path);
        return;
      case 'ttl':
        this.ttls.add(path);
        return;
      case 'session': {
        let set = this.ephemerals.get(owner);
        if (set === undefined) this.ephemerals.set(owner, (set = new Set()));
        assert(!set.has(path), () => `ephemeral index already has ${path}`);
        set.add(path);
        return;
      }
    }
  }

  removed(path: string, owner: bigint): void {
    switch (ownerKind(owner)) {
      case 'none':
        return;
      case 'container':
        assert(this.containers.delete(path), () => `container index lacks ${path}`);
        return;
      case 'ttl':
        assert(this.ttls.delete(path), () => `ttl index lacks ${path}`);
        return;
      case 'session': {
        const set = this.ephemerals.get(owner);
        assert(set !== undefined && set.delete(path), () => `ephemeral index lacks ${path}`);
        if (set.size === 0) this.ephemerals.delete(owner);
        return;
      }
    }
  }
}

/**
 * Applies one transaction inside an open write window. Returns the change events in the order
 * the ops made them (ZooKeeper's triggers: create -> created + parent childrenChanged, delete ->
 * deleted + parent childrenChanged, setData -> dataChanged, setACL -> none). With `outcomes`,
 * pushes what each op reports (the stat as of that op, so two setData of one node in a multi get
 * their own stats), as prep reported it.
 */
export function applyTxn(tree: TreeWriter, idx: NodeIndexes, txn: Txn, zxid: bigint, outcomes?: OpOutcome[]): ChangeEvent[] {
  assert(zxid > tree.appliedZxid(), () => `txn zxid 0x${zxid.toString(16)} not after the applied zxid`);
  const events: ChangeEvent[] = [];
  switch (txn.type) {
    case 'createSession':
      return events; // sessions live in the session tracker; the txn makes them durable
    case 'ops':
    case 'closeSession':
      for (const op of txn.ops) {
        applyOp(tree, idx, op, zxid, txn.timeMs, events);
        if (outcomes !== undefined) outcomes.push(outcomeOf(tree, op));
      }
      return events;
    default:
      return unreachable(txn);
  }
}

function applyOp(tree: TreeWriter, idx: NodeIndexes, op: TxnOp, zxid: bigint, timeMs: number, events: ChangeEvent[]): void {
  switch (op.type) {
    case 'create': {
      const parent = parentPath(op.path);
      const p = tree.statOf(parent);
      assert(p !== null, () => `apply create ${op.path}: no parent`);
      assert(!tree.has(op.path), () => `apply create ${op.path}: exists`);
      assert(ownerKind(p.ephemeralOwner) !== 'session', () => `apply create ${op.path}: ephemeral parent`);
      assert(op.parentCversion === p.cversion + 1, () => `apply create ${op.path}: parent cversion ${p.cversion} -> ${op.parentCversion}`);
      const seq = tree.sequenceOf(parent);
      assert(seq !== null && op.parentSequence === seq + 1, () => `apply create ${op.path}: parent sequence`);
      const aclIndex = tree.internAcl(op.acl);
      tree.createNode(op.path, { data: op.data, aclIndex, ephemeralOwner: op.owner, zxid, timeMs });
      tree.updateStat(parent, { cversion: op.parentCversion, pzxid: zxid, sequence: op.parentSequence });
      idx.added(op.path, op.owner);
      const s = tree.statOf(op.path);
      assert(s !== null && s.czxid === zxid && s.dataLength === op.data.length, () => `apply create ${op.path}: not stored`);
      events.push({ type: 'created', path: op.path }, { type: 'childrenChanged', path: parent });
      return;
    }
    case 'delete': {
      const parent = parentPath(op.path);
      const s = tree.statOf(op.path);
      const p = tree.statOf(parent);
      assert(s !== null && p !== null, () => `apply delete ${op.path}: missing node or parent`);
      assert(s.numChildren === 0, () => `apply delete ${op.path}: has children`);
      assert(op.parentCversion === p.cversion + 1, () => `apply delete ${op.path}: parent cversion ${p.cversion} -> ${op.parentCversion}`);
      tree.deleteNode(op.path);
      // ZooKeeper sets the parent's pzxid only if it grows (DataTree.deleteNode); in order it always does.
      tree.updateStat(parent, { cversion: op.parentCversion, pzxid: zxid > p.pzxid ? zxid : p.pzxid });
      idx.removed(op.path, s.ephemeralOwner);
      assert(!tree.has(op.path), () => `apply delete ${op.path}: still there`);
      events.push({ type: 'deleted', path: op.path }, { type: 'childrenChanged', path: parent });
      return;
    }
    case 'setData': {
      const s = tree.statOf(op.path);
      assert(s !== null, () => `apply setData ${op.path}: no node`);
      assert(op.version === s.version + 1, () => `apply setData ${op.path}: version ${s.version} -> ${op.version}`);
      tree.setData(op.path, op.data);
      tree.updateStat(op.path, { version: op.version, mzxid: zxid, mtime: timeMs });
      events.push({ type: 'dataChanged', path: op.path });
      return;
    }
    case 'setACL': {
      const s = tree.statOf(op.path);
      assert(s !== null, () => `apply setACL ${op.path}: no node`);
      assert(op.aversion === s.aversion + 1, () => `apply setACL ${op.path}: aversion ${s.aversion} -> ${op.aversion}`);
      tree.updateStat(op.path, { aversion: op.aversion, aclIndex: tree.internAcl(op.acl) });
      return; // ZooKeeper fires no watch on an ACL change
    }
    case 'check': {
      const s = tree.statOf(op.path);
      assert(s !== null && s.version === op.version, () => `apply check ${op.path}: node or version differs from prep`);
      return;
    }
    default:
      unreachable(op);
  }
}

/** What the op reports to its client, read back from the tree just after the op (prep's OpOutcome). */
function outcomeOf(tree: TreeWriter, op: TxnOp): OpOutcome {
  const statNow = () => {
    const s = tree.statOf(op.path);
    assert(s !== null, () => `outcome of ${op.type} ${op.path}: no node`);
    return clientStat(s);
  };
  switch (op.type) {
    case 'create':
      return { type: 'create', path: op.path, stat: statNow() };
    case 'delete':
      return { type: 'delete' };
    case 'setData':
      return { type: 'setData', stat: statNow() };
    case 'setACL':
      return { type: 'setACL', stat: statNow() };
    case 'check':
      return { type: 'check' };
    default:
      return unreachable(op);
  }
}
