// Transactions: what prep decided, with every value apply needs (times, new versions, the parent's
// new cversion and sequence), so applying is deterministic on every server and at replay.
// Encoded as compact standard MessagePack (arrays, no records) for the txn log.
//
// Layout (version 1):
//   txn   = [1, kind, sessionId, timeMs, ...]
//     kind 0 ops:           [1, 0, sessionId, timeMs, form, [op...]]
//                             form 0 a single op, 1 a multi, 2 a deleteContainer (the sweeper's)
//     kind 1 createSession: [1, 1, sessionId, timeMs, timeoutMs, password]
//     kind 2 closeSession:  [1, 2, sessionId, timeMs, [op...]]   (the deletes of its ephemerals)
//   op    = [0 create, path, data, acl, owner, parentCversion, parentSequence]
//         | [1 delete, path, parentCversion]
//         | [2 setData, path, data, version]
//         | [3 setACL, path, acl, aversion]
//         | [4 check, path, version]   (only in a multi: no change, it keeps the op's place so
//                                       every server derives the same per-op results)
//   acl   = [perms, scheme, id, perms, scheme, id, ...]
// 64-bit values go as a plain integer when they fit 53 bits, else as a msgpack uint64/int64.
import { Packr } from 'msgpackr';
import { assert } from '../../common/assert.js';
import type { ACL } from '../../common/types.js';

export type TxnOp =
  | {
      type: 'create';
      path: string;
      data: Uint8Array;
      acl: ACL[];
      owner: bigint; // raw ephemeralOwner (owner.ts)
      parentCversion: number; // the parent's cversion after this create
      parentSequence: number; // the parent's creation counter after this create
    }
  | { type: 'delete'; path: string; parentCversion: number }
  | { type: 'setData'; path: string; data: Uint8Array; version: number } // version after the change
  | { type: 'setACL'; path: string; acl: ACL[]; aversion: number } // aversion after the change
  | { type: 'check'; path: string; version: number }; // the version the node has (checked at prep)

export type Txn =
  // deleteContainer: set (true) only on the sweeper's txn, whose answer differs from a delete's.
  | { type: 'ops'; sessionId: bigint; timeMs: number; multi: boolean; deleteContainer?: true; ops: TxnOp[] }
  | { type: 'createSession'; sessionId: bigint; timeMs: number; timeoutMs: number; password: Uint8Array }
  | { type: 'closeSession'; sessionId: bigint; timeMs: number; ops: TxnOp[] };

const formatVersion = 1;
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

function u64Out(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n ? Number(v) : v;
}

function u64In(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  assert(typeof v === 'number' && Number.isSafeInteger(v), () => `txn: ${what} is not an integer`);
  return BigInt(v);
}

function aclOut(acl: ACL[]): unknown[] {
  const out: unknown[] = [];
  for (const a of acl) out.push(a.perms, a.scheme, a.id);
  return out;
}

function opOut(op: TxnOp): unknown[] {
  switch (op.type) {
    case 'create':
      return [0, op.path, op.data, aclOut(op.acl), u64Out(op.owner), op.parentCversion, op.parentSequence];
    case 'delete':
      return [1, op.path, op.parentCversion];
    case 'setData':
      return [2, op.path, op.data, op.version];
    case 'setACL':
      return [3, op.path, aclOut(op.acl), op.aversion];
    case 'check':
      return [4, op.path, op.version];
  }
}

export function encodeTxn(txn: Txn): Uint8Array {
  const head = [formatVersion];
  switch (txn.type) {
    case 'ops':
      return packr.pack([...head, 0, u64Out(txn.sessionId), txn.timeMs, txn.multi ? 1 : txn.deleteContainer === true ? 2 : 0, txn.ops.map(opOut)]);
    case 'createSession':
      return packr.pack([...head, 1, u64Out(txn.sessionId), txn.timeMs, txn.timeoutMs, txn.password]);
    case 'closeSession':
      return packr.pack([...head, 2, u64Out(txn.sessionId), txn.timeMs, txn.ops.map(opOut)]);
  }
}

// ---- decoding: a record passed its CRC, so a shape error here is a bug, not bad input ----

function arr(v: unknown, what: string): unknown[] {
  assert(Array.isArray(v), () => `txn: ${what} is not an array`);
  return v;
}
function int(v: unknown, what: string): number {
  assert(typeof v === 'number' && Number.isInteger(v), () => `txn: ${what} is not an integer`);
  return v;
}
function num(v: unknown, what: string): number {
  assert(typeof v === 'number' && Number.isFinite(v), () => `txn: ${what} is not a number`);
  return v;
}
function str(v: unknown, what: string): string {
  assert(typeof v === 'string', () => `txn: ${what} is not a string`);
  return v;
}
function bin(v: unknown, what: string): Uint8Array {
  assert(v instanceof Uint8Array, () => `txn: ${what} is not binary`);
  // A copy: decoded binaries are views into the caller's (reusable) read buffer.
  return new Uint8Array(v);
}

function aclIn(v: unknown): ACL[] {
  const flat = arr(v, 'acl');
  assert(flat.length % 3 === 0, 'txn: acl length');
  const out: ACL[] = [];
  for (let i = 0; i < flat.length; i += 3) {
    out.push({ perms: int(flat[i], 'perms'), scheme: str(flat[i + 1], 'scheme'), id: str(flat[i + 2], 'id') });
  }
  return out;
}

function opIn(v: unknown): TxnOp {
  const a = arr(v, 'op');
  const kind = int(a[0], 'op kind');
  switch (kind) {
    case 0:
      assert(a.length === 7, 'txn: create arity');
      return {
        type: 'create',
        path: str(a[1], 'path'),
        data: bin(a[2], 'data'),
        acl: aclIn(a[3]),
        owner: u64In(a[4], 'owner'),
        parentCversion: int(a[5], 'parentCversion'),
        parentSequence: int(a[6], 'parentSequence'),
      };
    case 1:
      assert(a.length === 3, 'txn: delete arity');
      return { type: 'delete', path: str(a[1], 'path'), parentCversion: int(a[2], 'parentCversion') };
    case 2:
      assert(a.length === 4, 'txn: setData arity');
      return { type: 'setData', path: str(a[1], 'path'), data: bin(a[2], 'data'), version: int(a[3], 'version') };
    case 3:
      assert(a.length === 4, 'txn: setACL arity');
      return { type: 'setACL', path: str(a[1], 'path'), acl: aclIn(a[2]), aversion: int(a[3], 'aversion') };
    case 4:
      assert(a.length === 3, 'txn: check arity');
      return { type: 'check', path: str(a[1], 'path'), version: int(a[2], 'version') };
    default:
      assert(false, () => `txn: unknown op kind ${kind}`);
  }
}

export function decodeTxn(bytes: Uint8Array): Txn {
  const a = arr(packr.unpack(bytes), 'txn');
  assert(a[0] === formatVersion, () => `txn: unknown format version ${String(a[0])}`);
  const kind = int(a[1], 'kind');
  const sessionId = u64In(a[2], 'sessionId');
  const timeMs = num(a[3], 'timeMs');
  switch (kind) {
    case 0: {
      assert(a.length === 6, 'txn: ops arity');
      const form = int(a[4], 'form');
      assert(form >= 0 && form <= 2, () => `txn: unknown ops form ${form}`);
      const txn: Txn = { type: 'ops', sessionId, timeMs, multi: form === 1, ops: arr(a[5], 'ops').map(opIn) };
      if (form === 2) txn.deleteContainer = true;
      return txn;
    }
    case 1:
      assert(a.length === 6, 'txn: createSession arity');
      return { type: 'createSession', sessionId, timeMs, timeoutMs: int(a[4], 'timeoutMs'), password: bin(a[5], 'password') };
    case 2:
      assert(a.length === 5, 'txn: closeSession arity');
      return { type: 'closeSession', sessionId, timeMs, ops: arr(a[4], 'ops').map(opIn) };
    default:
      assert(false, () => `txn: unknown kind ${kind}`);
  }
}
