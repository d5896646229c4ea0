// Server side: decode and validate a client -> server frame. Every field is checked (type, range,
// path rules, sizes); anything off throws ProtocolError and the server closes that connection.
import { constants } from '../common/constants.js';
import type { CreateMode } from '../common/types.js';
import { isSequentialMode, isTtlMode, multiOpcodes, Opcode, watchBitsAll, wireToCreateMode, wireToWatchMode } from './codes.js';
import { ProtocolError } from './errors.js';
import * as f from './fields.js';
import { protocolLimits } from './limits.js';
import type { ClientMessage, ConnectRequest, MultiOp, Request } from './messages.js';
import { unpackFrame } from './msgpack.js';

export interface DecodeLimits {
  dataBytesMax: number; // the server's configured znode data limit
  frameBytesMax: number;
}
export const defaultDecodeLimits: DecodeLimits = { dataBytesMax: constants.dataBytesMax, frameBytesMax: constants.frameBytesMax };

/**
 * Decode one client frame. `copyBinaries` (default true) copies data/password/credential out of
 * `bytes`, so the result stays valid after the input buffer is reused (uWS): one copy per binary
 * and none of the frame. Pass false only for input that is never reused.
 */
export function decodeClientFrame(bytes: Uint8Array, limits: DecodeLimits = defaultDecodeLimits, copyBinaries = true): ClientMessage {
  return decodeClientMessage(unpackFrame(bytes, copyBinaries, limits.frameBytesMax), limits);
}

/** Validate an already unpacked client message. */
export function decodeClientMessage(value: unknown, limits: DecodeLimits = defaultDecodeLimits): ClientMessage {
  const a = f.expectArray(value, 'message', 2, 8);
  const opcode = a[0];
  if (opcode === Opcode.connect) return decodeConnect(a);
  if (typeof opcode !== 'number') f.fail('opcode', `expected an integer, got ${typeof opcode}`);
  const xid = f.u32(a[1], 'xid');
  try {
    return decodeRequest(opcode, xid, a, limits);
  } catch (e) {
    // Tag the error with the xid so a server may answer the request instead of closing.
    if (e instanceof ProtocolError && e.xid === undefined) throw new ProtocolError(e.reason, xid);
    throw e;
  }
}

function decodeConnect(a: unknown[]): ConnectRequest {
  f.expectArray(a, 'connect', 7, 7);
  return {
    opcode: Opcode.connect,
    protocolVersion: f.u32(a[1], 'connect.protocolVersion'),
    lastZxidSeen: f.int64(a[2], 'connect.lastZxidSeen'),
    sessionTimeoutMs: f.int(a[3], 'connect.sessionTimeoutMs', 1, protocolLimits.sessionTimeoutMsMax),
    sessionId: f.int64(a[4], 'connect.sessionId'),
    password: passwordBytes(a[5]),
    readOnly: f.bool(a[6], 'connect.readOnly'),
  };
}

function passwordBytes(value: unknown): Uint8Array {
  const p = f.bytes(value, 'connect.password', protocolLimits.passwordBytes);
  if (p.byteLength !== protocolLimits.passwordBytes) f.fail('connect.password', `expected ${protocolLimits.passwordBytes} bytes, got ${p.byteLength}`);
  return p;
}

function arity(a: unknown[], n: number, what: string): void {
  if (a.length !== n) f.fail(what, `expected ${n} elements, got ${a.length}`);
}

function decodeRequest(opcode: number, xid: number, a: unknown[], limits: DecodeLimits): Request {
  switch (opcode) {
    case Opcode.create:
    case Opcode.create2: {
      arity(a, 7, 'create');
      const c = decodeCreateFields(a, 2, limits);
      return { opcode, xid, path: c.path, data: c.data, acl: c.acl, mode: c.mode, ttlMs: c.ttlMs };
    }
    case Opcode.delete:
      arity(a, 4, 'delete');
      return { opcode, xid, path: f.path(a[2], 'delete.path'), version: f.version(a[3], 'delete.version') };
    case Opcode.exists:
      arity(a, 4, 'exists');
      return { opcode, xid, path: f.path(a[2], 'exists.path'), watch: f.bool(a[3], 'exists.watch') };
    case Opcode.getData:
      arity(a, 4, 'getData');
      return { opcode, xid, path: f.path(a[2], 'getData.path'), watch: f.bool(a[3], 'getData.watch') };
    case Opcode.setData:
      arity(a, 5, 'setData');
      return {
        opcode,
        xid,
        path: f.path(a[2], 'setData.path'),
        data: f.bytes(a[3], 'setData.data', limits.dataBytesMax),
        version: f.version(a[4], 'setData.version'),
      };
    case Opcode.getACL:
      arity(a, 3, 'getACL');
      return { opcode, xid, path: f.path(a[2], 'getACL.path') };
    case Opcode.setACL:
      arity(a, 5, 'setACL');
      return { opcode, xid, path: f.path(a[2], 'setACL.path'), acl: f.acl(a[3], 'setACL.acl'), version: f.version(a[4], 'setACL.version') };
    case Opcode.getChildren:
      arity(a, 5, 'getChildren');
      return {
        opcode,
        xid,
        path: f.path(a[2], 'getChildren.path'),
        watch: f.bool(a[3], 'getChildren.watch'),
        withStat: f.bool(a[4], 'getChildren.withStat'),
      };
    case Opcode.sync:
      arity(a, 3, 'sync');
      return { opcode, xid, path: f.path(a[2], 'sync.path') };
    case Opcode.ping:
      arity(a, 2, 'ping');
      return { opcode, xid };
    case Opcode.multi:
      arity(a, 3, 'multi');
      return { opcode, xid, ops: decodeMultiOps(a[2], limits) };
    case Opcode.checkWatches:
    case Opcode.removeWatches:
      arity(a, 4, 'removeWatches');
      return { opcode, xid, path: f.path(a[2], 'removeWatches.path'), watchBits: f.int(a[3], 'removeWatches.watchBits', 1, watchBitsAll) };
    case Opcode.addAuth:
      arity(a, 4, 'addAuth');
      return {
        opcode,
        xid,
        scheme: f.str(a[2], 'addAuth.scheme', protocolLimits.aclSchemeBytesMax),
        credential: f.bytes(a[3], 'addAuth.credential', protocolLimits.authCredentialBytesMax),
      };
    case Opcode.getEphemerals:
      arity(a, 3, 'getEphemerals');
      return { opcode, xid, prefix: f.path(a[2], 'getEphemerals.prefix') };
    case Opcode.getAllChildrenNumber:
      arity(a, 3, 'getAllChildrenNumber');
      return { opcode, xid, path: f.path(a[2], 'getAllChildrenNumber.path') };
    case Opcode.setWatches:
      return decodeSetWatches(xid, a);
    case Opcode.addWatch:
      arity(a, 4, 'addWatch');
      return { opcode, xid, path: f.path(a[2], 'addWatch.path'), mode: wireToWatchMode[f.int(a[3], 'addWatch.mode', 0, 1)]! };
    case Opcode.close:
      arity(a, 2, 'close');
      return { opcode, xid };
    default:
      return f.fail('opcode', `unknown opcode ${opcode}`);
  }
}

function decodeCreateFields(a: unknown[], at: number, limits: DecodeLimits): { path: string; data: Uint8Array; acl: import('../common/types.js').ACL[]; mode: CreateMode; ttlMs: number } {
  const mode = wireToCreateMode[f.int(a[at + 3], 'create.mode', 0, wireToCreateMode.length - 1)]!;
  const ttl = isTtlMode(mode);
  const ttlMs = f.int(a[at + 4], 'create.ttlMs', ttl ? 1 : 0, ttl ? protocolLimits.ttlMsMax : 0);
  return {
    path: f.path(a[at], 'create.path', isSequentialMode(mode)),
    data: f.bytes(a[at + 1], 'create.data', limits.dataBytesMax),
    acl: f.acl(a[at + 2], 'create.acl'),
    mode,
    ttlMs,
  };
}

function decodeMultiOps(value: unknown, limits: DecodeLimits): MultiOp[] {
  const list = f.expectArray(value, 'multi.ops', 0, protocolLimits.multiOpsMax);
  const ops: MultiOp[] = new Array<MultiOp>(list.length);
  for (let i = 0; i < list.length; i++) {
    const o = f.expectArray(list[i], `multi.ops[${i}]`, 3, 6);
    const opcode = o[0];
    if (typeof opcode !== 'number' || !multiOpcodes.has(opcode)) f.fail(`multi.ops[${i}]`, `opcode ${String(opcode)} not allowed in multi`);
    switch (opcode) {
      case Opcode.create: {
        arity(o, 6, 'multi create');
        const c = decodeCreateFields(o, 1, limits);
        ops[i] = { opcode, path: c.path, data: c.data, acl: c.acl, mode: c.mode, ttlMs: c.ttlMs };
        break;
      }
      case Opcode.delete:
        arity(o, 3, 'multi delete');
        ops[i] = { opcode, path: f.path(o[1], 'delete.path'), version: f.version(o[2], 'delete.version') };
        break;
      case Opcode.setData:
        arity(o, 4, 'multi setData');
        ops[i] = { opcode, path: f.path(o[1], 'setData.path'), data: f.bytes(o[2], 'setData.data', limits.dataBytesMax), version: f.version(o[3], 'setData.version') };
        break;
      default:
        arity(o, 3, 'multi check');
        ops[i] = { opcode: Opcode.check, path: f.path(o[1], 'check.path'), version: f.version(o[2], 'check.version') };
    }
  }
  return ops;
}

function decodeSetWatches(xid: number, a: unknown[]): Request {
  arity(a, 8, 'setWatches');
  const max = protocolLimits.setWatchesPathsMax;
  let total = 0;
  const lists: string[][] = [];
  for (let i = 3; i < 8; i++) {
    const l = f.pathList(a[i], 'setWatches.paths', max);
    total += l.length;
    if (total > max) f.fail('setWatches', `more than ${max} paths`);
    lists.push(l);
  }
  return {
    opcode: Opcode.setWatches,
    xid,
    relativeZxid: f.int64(a[2], 'setWatches.relativeZxid'),
    data: lists[0]!,
    exist: lists[1]!,
    child: lists[2]!,
    persistent: lists[3]!,
    persistentRecursive: lists[4]!,
  };
}
