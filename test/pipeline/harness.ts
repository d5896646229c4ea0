// Test harness: a real Pipeline over a real shared-memory tree, with a settable clock, a session
// tracker stand-in (closed sessions) and helpers to flush (log + commit) and to compare trees.
import assert from 'node:assert/strict';
import type { ACL, CreateMode, Stat } from '../../src/common/types.js';
import type { CommittedEntry, LogRecord, WriteOp, WriteRequest } from '../../src/server/pipeline/api.js';
import type { AuthId } from '../../src/server/pipeline/api.js';
import { Pipeline } from '../../src/server/pipeline/index.js';
import type { TreeWriter } from '../../src/server/tree/api.js';
import { createTree } from '../../src/server/tree/index.js';

export class Harness {
  readonly tree: TreeWriter;
  readonly pipeline: Pipeline;
  now = 1_700_000_000_000;
  readonly closed = new Set<bigint>();
  readonly entries = new Map<number, CommittedEntry>();
  readonly records: LogRecord[] = [];
  readonly batches: bigint[] = []; // appliedZxid of each publish
  private tag = 0;

  constructor(opts: { dataBytesMax?: number; pendingMax?: number; tree?: TreeWriter } = {}) {
    this.tree = opts.tree ?? createTree({ initialBytes: 1 << 20, maxBytes: 256 << 20 });
    this.pipeline = new Pipeline(this.tree, {
      clock: { nowMs: () => this.now },
      epoch: 1,
      lastZxid: this.tree.appliedZxid(),
      ...(opts.dataBytesMax !== undefined ? { dataBytesMax: opts.dataBytesMax } : {}),
      ...(opts.pendingMax !== undefined ? { pendingMax: opts.pendingMax } : {}),
      isSessionLive: (id) => !this.closed.has(id),
    });
  }

  private readonly opTypes = new Map<number, string>();

  /** The type of the request submitted with `tag` (through submit() or submitRequest()). */
  lastOpType(tag: number): string {
    return this.opTypes.get(tag) ?? '?';
  }

  submitRequest(req: WriteRequest): void {
    this.opTypes.set(req.tag, req.op.type);
    this.pipeline.submit(req);
  }

  /** Submits without committing; returns the tag. */
  submit(op: WriteOp, sessionId = 0x1000n, authIds: AuthId[] = []): number {
    const tag = ++this.tag;
    this.submitRequest({ sessionId, tag, authIds, op });
    return tag;
  }

  /** Logs and commits everything that can be. */
  flush(): void {
    for (;;) {
      const recs = this.pipeline.takeLogRecords();
      this.records.push(...recs);
      if (recs.length > 0) this.pipeline.logged(recs[recs.length - 1]!.zxid);
      const n = this.pipeline.commit((entries, applied) => {
        this.batches.push(applied);
        for (const e of entries) {
          assert.equal(this.entries.has(e.tag), false, 'each entry is committed once');
          this.entries.set(e.tag, e);
          if (e.closedSessionId !== undefined) this.closed.add(e.closedSessionId);
        }
      });
      if (recs.length === 0 && n === 0) return;
    }
  }

  /** Submit + flush, returning the committed entry. */
  run(op: WriteOp, sessionId = 0x1000n, authIds: AuthId[] = []): CommittedEntry {
    const tag = this.submit(op, sessionId, authIds);
    this.flush();
    const e = this.entries.get(tag);
    assert.ok(e !== undefined, 'entry committed');
    return e;
  }
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

export const op = {
  create: (path: string, data = '', mode: CreateMode = 'persistent', acl: ACL[] = [{ perms: 31, scheme: 'world', id: 'anyone' }], ttlMs = 0): WriteOp => ({
    type: 'create',
    path,
    data: bytes(data),
    mode,
    acl,
    ttlMs,
  }),
  delete: (path: string, version = -1): WriteOp => ({ type: 'delete', path, version }),
  setData: (path: string, data: string, version = -1): WriteOp => ({ type: 'setData', path, data: bytes(data), version }),
  setACL: (path: string, acl: ACL[], version = -1): WriteOp => ({ type: 'setACL', path, acl, version }),
  check: (path: string, version: number): WriteOp => ({ type: 'check', path, version }),
  multi: (...ops: WriteOp[]): WriteOp => ({ type: 'multi', ops }),
};

export interface TreeDump {
  stat: Stat;
  data: string;
  acl: ACL[];
  sequence: number;
}

/** Every node of a tree with its raw stat, data (hex), ACL and sequence counter. */
export function dumpTree(tree: TreeWriter): Map<string, TreeDump> {
  const out = new Map<string, TreeDump>();
  tree.forEachNode((path, stat) => {
    out.set(path, {
      stat,
      data: tree.dataOf(path)!.toString('hex'),
      acl: tree.acl(tree.aclIndexOf(path)!),
      sequence: tree.sequenceOf(path)!,
    });
  });
  return out;
}
