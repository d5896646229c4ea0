// A write that would not fit in the tree's memory is refused before it becomes a txn: the tree
// cannot roll back a write window that runs out of memory halfway (readers would wait on its
// seqlock forever), so the pipeline keeps headroom and answers SYSTEMERROR instead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WriteResult } from '../../src/server/pipeline/api.js';
import { createTree } from '../../src/server/tree/index.js';
import { dumpTree, Harness, op } from './harness.js';

const code = (r: WriteResult): string => (r.ok ? 'OK' : r.code);
const BLOB = 'x'.repeat(60_000);
const TREE_MAX_BYTES = 4 << 20;

test('a create that would overflow the tree memory gets SYSTEMERROR and changes nothing; reads, deletes and small writes go on', () => {
  const h = new Harness({ tree: createTree({ initialBytes: 1 << 20, maxBytes: TREE_MAX_BYTES }) });
  let created = 0;
  let refused: WriteResult | null = null;
  for (let i = 0; i < 200 && refused === null; i++) {
    const r = h.run(op.create(`/big-${i}`, BLOB)).result;
    if (r.ok) created++;
    else refused = r;
  }
  assert.ok(refused !== null, 'the tree filled up within 200 creates of 60 kB');
  assert.ok(created >= 10, `a 4 MiB tree holds some 60 kB nodes first (held ${created})`);
  assert.equal(code(refused), 'SYSTEMERROR');
  assert.match(refused.ok ? '' : (refused.message ?? ''), /tree memory is full/);

  const before = dumpTree(h.tree);
  const zxidBefore = h.tree.appliedZxid();
  assert.equal(code(h.run(op.create(`/big-${created}`, BLOB)).result), 'SYSTEMERROR');
  assert.equal(code(h.run(op.multi(op.create('/m-small'), op.create('/m-big', BLOB))).result), 'SYSTEMERROR', 'a multi that does not fit is refused whole');
  assert.deepEqual(dumpTree(h.tree), before, 'the refused writes left the tree as it was');
  assert.equal(h.tree.appliedZxid(), zxidBefore, 'a refused write consumes no zxid');
  assert.equal(h.tree.dataOf('/big-0')!.toString(), BLOB, 'existing data still reads whole');

  // A delete needs no room: it is how an operator makes some.
  const del = h.run(op.delete('/big-0'));
  assert.equal(code(del.result), 'OK');
  assert.equal(del.zxid, zxidBefore + 1n);
  assert.equal(h.tree.statOf('/big-0'), null);
});
