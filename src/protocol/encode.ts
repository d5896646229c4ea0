// Encoders for both directions. Each builds the compact wire array of README.md and packs it with
// the thread's shared Packr (no per-call encoder). Inputs are trusted (our own code built them);
// asserts catch programming errors, not user input.
import { assert, AssertionError } from '../common/assert.js';
import type { ErrorCode } from '../common/errors.js';
import type { ACL, OpResult, Stat, WatchedEventType } from '../common/types.js';
import { createModeToWire, errorCodeToWire, eventTypeToWire, Opcode, ServerKind, watchModeToWire } from './codes.js';
import { aclToWire, statToWire, type WireStat } from './fields.js';
import { protocolLimits } from './limits.js';
import type { ConnectRequest, ConnectResponse, MultiOp, Request } from './messages.js';
import { pack } from './msgpack.js';

// ---------------------------------------------------------------- client -> server

export function encodeConnectRequest(c: Omit<ConnectRequest, 'opcode'>): Buffer {
  assert(c.password.byteLength === protocolLimits.passwordBytes, 'password is 16 bytes');
  return pack([Opcode.connect, c.protocolVersion, c.lastZxidSeen, c.sessionTimeoutMs, c.sessionId, c.password, c.readOnly]);
}

function multiOpToWire(o: MultiOp): unknown[] {
  switch (o.opcode) {
    case Opcode.create:
      return [o.opcode, o.path, o.data, aclToWire(o.acl), createModeToWire[o.mode], o.ttlMs];
    case Opcode.delete:
      return [o.opcode, o.path, o.version];
    case Opcode.setData:
      return [o.opcode, o.path, o.data, o.version];
    case Opcode.check:
      return [o.opcode, o.path, o.version];
  }
}

/** The wire array of a request (exported for tests and for callers that batch several). */
export function requestToWire(r: Request): unknown[] {
  switch (r.opcode) {
    case Opcode.create:
    case Opcode.create2:
      return [r.opcode, r.xid, r.path, r.data, aclToWire(r.acl), createModeToWire[r.mode], r.ttlMs];
    case Opcode.delete:
      return [r.opcode, r.xid, r.path, r.version];
    case Opcode.exists:
    case Opcode.getData:
      return [r.opcode, r.xid, r.path, r.watch];
    case Opcode.setData:
      return [r.opcode, r.xid, r.path, r.data, r.version];
    case Opcode.getACL:
    case Opcode.sync:
    case Opcode.getAllChildrenNumber:
      return [r.opcode, r.xid, r.path];
    case Opcode.setACL:
      return [r.opcode, r.xid, r.path, aclToWire(r.acl), r.version];
    case Opcode.getChildren:
      return [r.opcode, r.xid, r.path, r.watch, r.withStat];
    case Opcode.ping:
    case Opcode.close:
      return [r.opcode, r.xid];
    case Opcode.multi:
      return [r.opcode, r.xid, r.ops.map(multiOpToWire)];
    case Opcode.checkWatches:
    case Opcode.removeWatches:
      return [r.opcode, r.xid, r.path, r.watchBits];
    case Opcode.addAuth:
      return [r.opcode, r.xid, r.scheme, r.credential];
    case Opcode.getEphemerals:
      return [r.opcode, r.xid, r.prefix];
    case Opcode.setWatches:
      return [r.opcode, r.xid, r.relativeZxid, r.data, r.exist, r.child, r.persistent, r.persistentRecursive];
    case Opcode.addWatch:
      return [r.opcode, r.xid, r.path, watchModeToWire[r.mode]];
  }
}

export function encodeRequest(r: Request): Buffer {
  return pack(requestToWire(r));
}

// ---------------------------------------------------------------- server -> client

export function encodeConnectResponse(c: Omit<ConnectResponse, 'kind'>): Buffer {
  assert(c.password.byteLength === protocolLimits.passwordBytes, 'password is 16 bytes');
  return pack([ServerKind.connected, c.protocolVersion, c.sessionTimeoutMs, c.sessionId, c.password, c.readOnly, c.dataBytesMax]);
}

/** The last frame before the server closes a connection: why (SESSIONEXPIRED, a protocol error...). */
export function encodeClosing(code: ErrorCode, reason: string): Buffer {
  return pack([ServerKind.closing, errorCodeToWire(code), reason.slice(0, protocolLimits.errorMessageBytesMax / 4)]);
}

export function encodeWatchEvent(zxid: bigint, type: WatchedEventType, path: string): Buffer {
  const t = eventTypeToWire[type];
  assert(t >= 1 && t <= 4, 'only node events travel on the wire');
  return pack([ServerKind.watch, zxid, t, path]);
}

/** A success: `payload` already in wire form (use the *Payload helpers below); null for none. */
export function encodeResponse(xid: number, zxid: bigint, payload: unknown): Buffer {
  return pack([xid, zxid, null, payload]);
}

/** A failure. `opCodes` only for multi: one code per op ('OK' before the failing op). */
export function encodeErrorResponse(xid: number, zxid: bigint, code: ErrorCode, message?: string, opCodes?: readonly (ErrorCode | 'OK')[]): Buffer {
  let payload: unknown = message ?? null;
  if (opCodes !== undefined) payload = [message ?? null, opCodes.map(errorCodeToWire)];
  return pack([xid, zxid, errorCodeToWire(code), payload]);
}

// Payload builders, one per result shape (see README.md "Results").
export const payloads = {
  stat: (s: Stat): WireStat => statToWire(s),
  create: (path: string): string => path,
  create2: (path: string, s: Stat): [string, WireStat] => [path, statToWire(s)],
  getData: (data: Uint8Array, s: Stat): [Uint8Array, WireStat] => [data, statToWire(s)],
  getChildren: (names: string[], s: Stat | null): [string[], WireStat | null] => [names, s === null ? null : statToWire(s)],
  getACL: (acl: readonly ACL[], s: Stat): [[number, string, string][], WireStat] => [aclToWire(acl), statToWire(s)],
  multi: (results: readonly OpResult[]): unknown[] =>
    results.map((r) => {
      switch (r.op) {
        case 'create':
          return [Opcode.create, r.path];
        case 'delete':
          return [Opcode.delete];
        case 'setData':
          return [Opcode.setData, statToWire(r.stat)];
        case 'check':
          return [Opcode.check];
        case 'error':
          throw new AssertionError('a failed multi is sent with encodeErrorResponse');
      }
    }),
};
