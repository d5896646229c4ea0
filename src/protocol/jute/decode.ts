// A jute request frame (without its length prefix) -> this server's Request. Each ZooKeeper record
// is read field by field (buffer.ts bounds every length), then rebuilt as the MessagePack
// protocol's wire array and validated by the same decodeClientMessage as a native client's frame:
// one set of rules (paths, modes, TTLs, ACLs, sizes) for both listeners.
import { constants } from '../../common/constants.js';
import { ProtocolError } from '../errors.js';
import { decodeClientMessage, type DecodeLimits } from '../decode-client.js';
import { Opcode, WatchBits, watchBitsAll } from '../codes.js';
import type { ConnectRequest, Request } from '../messages.js';
import { protocolLimits } from '../limits.js';
import { JuteError, JuteReader } from './buffer.js';
import { JuteOp, JuteWatcherType, juteUnimplemented } from './codes.js';

/**
 * A request the worker answers without the tree (whoAmI, SASL, an unimplemented opcode). It travels
 * through the engine as a ping, so its answer keeps its place in the session's order; the codec
 * turns that ping's answer into this one.
 */
export type JuteLocal =
  | { kind: 'whoAmI' }
  | { kind: 'emptyMultiRead' }
  /** Answered with `code`; `close`: the connection closes after the answer (an unknown opcode). */
  | { kind: 'fail'; code: JuteRefusal; why: string; close?: boolean };

/** The error codes this server answers a well-framed but refused request with. */
export type JuteRefusal = 'UNIMPLEMENTED' | 'AUTHFAILED' | 'BADARGUMENTS' | 'NONODE' | 'MARSHALLINGERROR';

/**
 * A value ZooKeeper refuses with an error answer (an addWatch mode or a watcher type it does not
 * know: MARSHALLINGERROR, as a real 3.8.0 answers; an unknown opcode: UNIMPLEMENTED, then the close).
 */
class JuteValueError extends Error {
  constructor(
    readonly code: JuteRefusal,
    readonly reason: string,
    readonly close = false,
  ) {
    super(reason);
  }
}

/**
 * Requests whose invalid path a real ZooKeeper 3.8.0 answers NONODE (it looks the path up and finds
 * nothing); a write with an invalid value is BADARGUMENTS there (create with a bad path, flags or
 * TTL), and so are the others here.
 */
const readOps: ReadonlySet<number> = new Set([JuteOp.exists, JuteOp.getData, JuteOp.getACL, JuteOp.getChildren, JuteOp.getChildren2, JuteOp.getAllChildrenNumber, JuteOp.multiRead]);

export type JuteDecoded =
  /** `oldClient`: no readOnly byte (a client before 3.4); its answer has none either. */
  | { kind: 'connect'; req: ConnectRequest; oldClient: boolean }
  | {
      kind: 'request';
      req: Request;
      juteOp: number;
      local?: JuteLocal;
      syncPath?: string;
      /** multi: per op, whether its result is a Create2Response (a createContainer or createTTL op). */
      multiStats?: boolean[];
    }
  /** multiRead: its getData / getChildren ops as separate reads (xids for the caller to set). */
  | { kind: 'multiRead'; xid: number; reqs: Request[] }
  | { kind: 'malformed'; reason: string };

const zeroPassword = new Uint8Array(protocolLimits.passwordBytes);

/** The first frame of a connection: ConnectRequest (readOnly is absent in clients before 3.4). */
export function decodeJuteConnect(frame: Uint8Array): JuteDecoded {
  return guard(() => {
    const r = new JuteReader(frame);
    const protocolVersion = r.int('ConnectRequest.protocolVersion');
    const lastZxidSeen = r.long('ConnectRequest.lastZxidSeen');
    const timeOut = r.int('ConnectRequest.timeOut');
    const sessionId = r.long('ConnectRequest.sessionId');
    let password = r.buffer('ConnectRequest.passwd');
    const oldClient = r.remaining === 0;
    const readOnly = oldClient ? false : r.bool('ConnectRequest.readOnly');
    // ZooKeeper takes any password length; one that is not 16 bytes cannot match a session's, so
    // it is replaced by one that does not either (a new session ignores it): the attach answers
    // "expired", as ZooKeeper does for a wrong password.
    if (password.byteLength !== protocolLimits.passwordBytes) password = zeroPassword;
    if (protocolVersion < 0) throw new JuteError(`ConnectRequest.protocolVersion ${protocolVersion}`);
    if (lastZxidSeen < 0n || sessionId < 0n) throw new JuteError('ConnectRequest: negative zxid or session id');
    return {
      kind: 'connect',
      oldClient,
      req: {
        opcode: Opcode.connect,
        protocolVersion,
        lastZxidSeen,
        // The server negotiates the timeout into [min, max]; a non-positive ask is the minimum.
        sessionTimeoutMs: Math.max(1, timeOut),
        sessionId,
        password,
        readOnly,
      },
    };
  });
}

/** A frame after the handshake: RequestHeader {xid, type} and the type's record. */
export function decodeJuteRequest(frame: Uint8Array, limits: DecodeLimits): JuteDecoded {
  return guard(() => {
    const r = new JuteReader(frame);
    const xid = r.int('RequestHeader.xid');
    const type = r.int('RequestHeader.type');
    const u = xid >>> 0; // the native protocol's xid is a u32; answers write it back as an int32
    try {
      return decodeBody(r, u, type, limits);
    } catch (err) {
      // The record was read whole; a value in it is refused: answer, the connection stays.
      if (err instanceof JuteValueError) return local(u, type, { kind: 'fail', code: err.code, why: err.reason, close: err.close });
      if (err instanceof ProtocolError && err.xid !== undefined) return local(u, type, { kind: 'fail', code: readOps.has(type) ? 'NONODE' : 'BADARGUMENTS', why: err.reason });
      throw err;
    }
  });
}

function decodeBody(r: JuteReader, u: number, type: number, limits: DecodeLimits): JuteDecoded {
  if (juteUnimplemented.has(type)) return local(u, type, { kind: 'fail', code: 'UNIMPLEMENTED', why: `opcode ${type} is not supported by this server` });
  if (type === JuteOp.sasl) return local(u, type, { kind: 'fail', code: 'AUTHFAILED', why: 'SASL is not supported by this server: use digest auth (addauth digest user:password)' });
  if (type === JuteOp.whoAmI) return local(u, type, { kind: 'whoAmI' });
  if (type === JuteOp.multiRead) return { kind: 'multiRead', xid: u, reqs: multiReadOps(r).map((w) => decodeClientMessage(w, limits) as Request) };
  if (type === JuteOp.multi) {
    const multiStats: boolean[] = [];
    const req = decodeClientMessage([Opcode.multi, u, multiOps(r, multiStats)], limits) as Request;
    return { kind: 'request', req, juteOp: type, multiStats };
  }
  const wire = requestWire(r, u, type);
  const req = decodeClientMessage(wire, limits) as Request;
  return type === JuteOp.sync ? { kind: 'request', req, juteOp: type, syncPath: (req as { path: string }).path } : { kind: 'request', req, juteOp: type };
}

function local(xid: number, juteOp: number, l: JuteLocal): JuteDecoded {
  return { kind: 'request', req: { opcode: Opcode.ping, xid }, juteOp, local: l };
}

function guard(fn: () => JuteDecoded): JuteDecoded {
  try {
    return fn();
  } catch (err) {
    if (err instanceof JuteError || err instanceof ProtocolError) return { kind: 'malformed', reason: err.reason };
    throw err;
  }
}

const aclMinBytes = 12; // perms + two empty strings

function readAcl(r: JuteReader): [number, string, string][] {
  return r.vector('acl', aclMinBytes, constants.aclEntriesMax, (e) => {
    const perms = e.int('ACL.perms');
    return [perms, e.ustring('Id.scheme'), e.ustring('Id.id')];
  });
}

function paths(r: JuteReader, what: string): string[] {
  return r.vector(what, 4, protocolLimits.setWatchesPathsMax, (e) => e.ustring(what));
}

/** The record of one create variant, as [path, data, acl, flags, ttlMs]. */
function createFields(r: JuteReader, type: number): unknown[] {
  const path = r.ustring('CreateRequest.path');
  const data = r.buffer('CreateRequest.data');
  const acl = readAcl(r);
  const flags = r.int('CreateRequest.flags');
  let ttl = 0;
  if (type === JuteOp.createTTL) {
    const t = r.long('CreateTTLRequest.ttl');
    if (t < 0n || t > BigInt(protocolLimits.ttlMsMax)) throw new JuteValueError('BADARGUMENTS', `CreateTTLRequest.ttl ${t} out of range`);
    ttl = Number(t);
  }
  // The flags decide the mode, for createContainer too: ZooKeeper 3.8.0 answers a createContainer
  // with flags 0 by creating a plain persistent node (seen: ephemeralOwner 0); its clients send 4.
  return [path, data, acl, flags, ttl];
}

function requestWire(r: JuteReader, xid: number, type: number): unknown[] {
  switch (type) {
    case JuteOp.create:
      return [Opcode.create, xid, ...createFields(r, type)];
    case JuteOp.create2:
    case JuteOp.createContainer:
    case JuteOp.createTTL:
      // ZooKeeper answers all three with Create2Response.
      return [Opcode.create2, xid, ...createFields(r, type)];
    case JuteOp.delete:
      return [Opcode.delete, xid, r.ustring('DeleteRequest.path'), r.int('DeleteRequest.version')];
    case JuteOp.exists:
    case JuteOp.getData:
      return [type, xid, r.ustring('path'), r.bool('watch')];
    case JuteOp.setData:
      return [Opcode.setData, xid, r.ustring('SetDataRequest.path'), r.buffer('SetDataRequest.data'), r.int('SetDataRequest.version')];
    case JuteOp.getACL:
      return [Opcode.getACL, xid, r.ustring('GetACLRequest.path')];
    case JuteOp.setACL:
      return [Opcode.setACL, xid, r.ustring('SetACLRequest.path'), readAcl(r), r.int('SetACLRequest.version')];
    case JuteOp.getChildren:
    case JuteOp.getChildren2:
      return [Opcode.getChildren, xid, r.ustring('GetChildrenRequest.path'), r.bool('GetChildrenRequest.watch'), type === JuteOp.getChildren2];
    case JuteOp.sync:
      return [Opcode.sync, xid, r.ustring('SyncRequest.path')];
    case JuteOp.ping:
      return [Opcode.ping, xid];
    case JuteOp.closeSession:
      return [Opcode.close, xid];
    case JuteOp.checkWatches:
    case JuteOp.removeWatches:
      return [type, xid, r.ustring('RemoveWatchesRequest.path'), watchBitsOf(r.int('RemoveWatchesRequest.type'))];
    case JuteOp.auth: {
      r.int('AuthPacket.type');
      return [Opcode.addAuth, xid, r.ustring('AuthPacket.scheme'), r.buffer('AuthPacket.auth')];
    }
    case JuteOp.setWatches:
    case JuteOp.setWatches2: {
      const rel = r.long('SetWatches.relativeZxid');
      const lists = [paths(r, 'dataWatches'), paths(r, 'existWatches'), paths(r, 'childWatches')];
      if (type === JuteOp.setWatches2) lists.push(paths(r, 'persistentWatches'), paths(r, 'persistentRecursiveWatches'));
      else lists.push([], []);
      return [Opcode.setWatches, xid, rel, ...lists];
    }
    case JuteOp.getEphemerals:
      return [Opcode.getEphemerals, xid, r.ustring('GetEphemeralsRequest.prefixPath')];
    case JuteOp.getAllChildrenNumber:
      return [Opcode.getAllChildrenNumber, xid, r.ustring('GetAllChildrenNumberRequest.path')];
    case JuteOp.addWatch: {
      const path = r.ustring('AddWatchRequest.path');
      const mode = r.int('AddWatchRequest.mode');
      if (mode !== 0 && mode !== 1) throw new JuteValueError('MARSHALLINGERROR', `addWatch mode ${mode}`);
      return [Opcode.addWatch, xid, path, mode];
    }
    default:
      // ZooKeeper answers UNIMPLEMENTED, then closes the connection (UnimplementedRequestProcessor).
      throw new JuteValueError('UNIMPLEMENTED', `unknown opcode ${type}`, true);
  }
}

function watchBitsOf(t: number): number {
  switch (t) {
    case JuteWatcherType.children:
      return WatchBits.child;
    case JuteWatcherType.data:
      return WatchBits.data;
    case JuteWatcherType.any:
      return watchBitsAll;
    case JuteWatcherType.persistent:
      return WatchBits.persistent;
    case JuteWatcherType.persistentRecursive:
      return WatchBits.persistentRecursive;
    default:
      throw new JuteValueError('MARSHALLINGERROR', `watcher type ${t}`);
  }
}

/** multiRead's MultiOperationRecord: getChildren / getData ops, as wire arrays with xid 0. */
function multiReadOps(r: JuteReader): unknown[][] {
  const ops: unknown[][] = [];
  for (;;) {
    const type = r.int('MultiHeader.type');
    const done = r.bool('MultiHeader.done');
    r.int('MultiHeader.err');
    if (done) return ops;
    if (ops.length >= protocolLimits.multiOpsMax) throw new JuteError(`multiRead: more than ${protocolLimits.multiOpsMax} ops`);
    if (type === JuteOp.getChildren) ops.push([Opcode.getChildren, 0, r.ustring('GetChildrenRequest.path'), r.bool('GetChildrenRequest.watch'), false]);
    else if (type === JuteOp.getData) ops.push([Opcode.getData, 0, r.ustring('GetDataRequest.path'), r.bool('GetDataRequest.watch')]);
    else throw new JuteValueError('MARSHALLINGERROR', `opcode ${type} is not allowed in a multiRead`);
  }
}

/**
 * MultiOperationRecord: (MultiHeader {type, done, err}, op record)* ending with done = true.
 * `stats` gets, per op, whether ZooKeeper 3.8 answers it with a Create2Response: it does for
 * createContainer and createTTL ops, and answers create and create2 ops with a plain
 * CreateResponse (seen on a real 3.8.0; FinalRequestProcessor maps the sub-txn types).
 */
function multiOps(r: JuteReader, stats: boolean[]): unknown[] {
  const ops: unknown[] = [];
  for (;;) {
    const type = r.int('MultiHeader.type');
    const done = r.bool('MultiHeader.done');
    r.int('MultiHeader.err');
    if (done) return ops;
    if (ops.length >= protocolLimits.multiOpsMax) throw new JuteError(`multi: more than ${protocolLimits.multiOpsMax} ops`);
    switch (type) {
      case JuteOp.create:
      case JuteOp.create2:
      case JuteOp.createContainer:
      case JuteOp.createTTL:
        ops.push([Opcode.create, ...createFields(r, type)]);
        stats.push(type === JuteOp.createContainer || type === JuteOp.createTTL);
        break;
      case JuteOp.delete:
        ops.push([Opcode.delete, r.ustring('DeleteRequest.path'), r.int('DeleteRequest.version')]);
        stats.push(false);
        break;
      case JuteOp.setData:
        ops.push([Opcode.setData, r.ustring('SetDataRequest.path'), r.buffer('SetDataRequest.data'), r.int('SetDataRequest.version')]);
        stats.push(false);
        break;
      case JuteOp.check:
        ops.push([Opcode.check, r.ustring('CheckVersionRequest.path'), r.int('CheckVersionRequest.version')]);
        stats.push(false);
        break;
      default:
        throw new JuteValueError('MARSHALLINGERROR', `opcode ${type} is not allowed in a multi`);
    }
  }
}
