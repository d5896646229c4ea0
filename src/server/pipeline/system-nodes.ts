// The nodes every ZooKeeper tree starts with (DataTree's constructor): /zookeeper,
// /zookeeper/quota and /zookeeper/config (world:anyone READ only, aversion -1), all at zxid 0
// and time 0.
// They are not counted as child creations, which is why a fresh ZooKeeper shows cversion -1 on
// '/' and -2 on /zookeeper (cversion = 2 * creations - numChildren, see ZK-FACTS.md).
// createTree() makes the three nodes (all with the open ACL, cversions 0); the pipeline owns the
// ZooKeeper rules, so it brings a fresh tree to ZooKeeper's exact initial state here. Idempotent:
// a tree from a snapshot, or one already fixed up, is left alone.
import { assert } from '../../common/assert.js';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from '../../common/types.js';
import type { TreeWriter } from '../tree/api.js';

const empty = new Uint8Array(0);

export function ensureSystemNodes(tree: TreeWriter): void {
  const root = tree.statOf('/');
  assert(root !== null, 'the tree has a root');
  const fresh = tree.appliedZxid() === 0n && root.cversion === 0 && tree.sequenceOf('/') === 0;
  if (!fresh) {
    assert(tree.has('/zookeeper'), 'a used tree has /zookeeper');
    return;
  }
  const applied = tree.appliedZxid();
  tree.beginWrite();
  const open = tree.internAcl(OPEN_ACL_UNSAFE);
  const node = (aclIndex: number) => ({ data: empty, aclIndex, ephemeralOwner: 0n, zxid: 0n, timeMs: 0 });
  for (const path of ['/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
    if (!tree.has(path)) tree.createNode(path, node(open));
  }
  assert(tree.nodeCount() === 4, 'a fresh tree holds only the root and the /zookeeper nodes');
  // ZooKeeper sets this ACL with setACL(-1) at startup, which leaves aversion -1 (verified).
  tree.updateStat('/zookeeper/config', { aclIndex: tree.internAcl(READ_ACL_UNSAFE), aversion: -1 });
  tree.updateStat('/', { cversion: -1 });
  tree.updateStat('/zookeeper', { cversion: -2 });
  tree.endWrite(applied);
}
