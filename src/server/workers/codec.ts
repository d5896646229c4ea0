// The boundary between a client connection's wire format and the worker's engine. The engine
// speaks protocol Requests in and semantic answers out; a codec turns one frame into a message
// and each answer into one frame. This server's own protocol is MessagePack over WebSocket
// (msgpackCodec below); ZooKeeper's jute over TCP (issue 7) is a second implementation of the
// same interface on the same engine. Framing (WebSocket messages, length prefixes) is the
// listener's business: a codec sees whole frames.
import type { ErrorCode } from '../../common/errors.js';
import type { ACL, Stat } from '../../common/types.js';
import {
  decodeClientFrame,
  encodeClosing,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeResponse,
  encodeWatchEvent,
  Opcode,
  payloads,
  ProtocolError,
  protocolLimits,
  type ConnectRequest,
  type DecodeLimits,
  type Request,
} from '../../protocol/index.js';
import type { ChangeEventType, CommittedEntry } from '../pipeline/api.js';

/** One client frame, decoded. `malformed` closes the connection with MARSHALLINGERROR. */
export type Decoded =
  | { kind: 'connect'; req: ConnectRequest }
  | { kind: 'request'; req: Request }
  // Several requests from one frame (jute's multiRead), taking consecutive slots in the session's
  // order; the codec makes one answer frame of their answers.
  | { kind: 'requests'; reqs: Request[] }
  | { kind: 'malformed'; reason: string };

export interface Connected {
  sessionTimeoutMs: number;
  sessionId: bigint;
  password: Uint8Array;
  readOnly: boolean;
  dataBytesMax: number;
}

export interface ConnCodec {
  /** The ConnectRequest protocol version this codec speaks; another one is refused. */
  readonly protocolVersion: number;
  /** `binary` is false for a WebSocket text frame (a codec may refuse it). */
  decode(frame: Uint8Array, binary: boolean): Decoded;
  connected(c: Connected): Uint8Array;
  /** The last frame before the server closes the connection, with the reason. */
  closing(code: ErrorCode, reason: string): Uint8Array;
  error(xid: number, zxid: bigint, code: ErrorCode, message?: string, opCodes?: readonly (ErrorCode | 'OK')[]): Uint8Array;
  /** An answer without a body (ping, sync, delete, addWatch, setWatches, addAuth, ...). */
  ok(xid: number, zxid: bigint): Uint8Array;
  /** exists: the node's stat, or null when it does not exist. */
  stat(xid: number, zxid: bigint, stat: Stat | null): Uint8Array;
  data(xid: number, zxid: bigint, data: Uint8Array, stat: Stat): Uint8Array;
  children(xid: number, zxid: bigint, names: string[], stat: Stat | null): Uint8Array;
  count(xid: number, zxid: bigint, n: number): Uint8Array;
  acl(xid: number, zxid: bigint, acl: readonly ACL[], stat: Stat): Uint8Array;
  /** A committed write's answer; `opcode` is the request's (create vs create2). */
  writeResult(xid: number, zxid: bigint, opcode: number, result: CommittedEntry['result']): Uint8Array;
  watchEvent(zxid: bigint, type: ChangeEventType, path: string): Uint8Array;
}

/** This server's MessagePack frames (src/protocol). */
export function msgpackCodec(limits: DecodeLimits): ConnCodec {
  return {
    protocolVersion: protocolLimits.protocolVersion,
    decode(frame, binary) {
      if (!binary) return { kind: 'malformed', reason: 'text frame: the protocol uses binary MessagePack frames' };
      try {
        const msg = decodeClientFrame(frame, limits, true);
        return msg.opcode === Opcode.connect ? { kind: 'connect', req: msg } : { kind: 'request', req: msg };
      } catch (err) {
        if (err instanceof ProtocolError) return { kind: 'malformed', reason: err.reason };
        throw err;
      }
    },
    connected: (c) => encodeConnectResponse({ protocolVersion: protocolLimits.protocolVersion, ...c }),
    closing: (code, reason) => encodeClosing(code, reason),
    error: (xid, zxid, code, message, opCodes) => encodeErrorResponse(xid, zxid, code, message, opCodes),
    ok: (xid, zxid) => encodeResponse(xid, zxid, null),
    stat: (xid, zxid, stat) => encodeResponse(xid, zxid, stat === null ? null : payloads.stat(stat)),
    data: (xid, zxid, data, stat) => encodeResponse(xid, zxid, payloads.getData(data, stat)),
    children: (xid, zxid, names, stat) => encodeResponse(xid, zxid, payloads.getChildren(names, stat)),
    count: (xid, zxid, n) => encodeResponse(xid, zxid, n),
    acl: (xid, zxid, acl, stat) => encodeResponse(xid, zxid, payloads.getACL(acl, stat)),
    writeResult: encodeWriteResult,
    watchEvent: (zxid, type, path) => encodeWatchEvent(zxid, type, path),
  };
}

function encodeWriteResult(xid: number, zxid: bigint, opcode: number, r: CommittedEntry['result']): Uint8Array {
  if (!r.ok) {
    const opCodes = r.results?.map((x) => (x.op === 'error' ? x.code : 'OK'));
    return encodeErrorResponse(xid, zxid, r.code, r.message, opCodes);
  }
  const v = r.value;
  switch (v.type) {
    case 'create':
      return encodeResponse(xid, zxid, opcode === Opcode.create2 ? payloads.create2(v.path, v.stat) : payloads.create(v.path));
    case 'setData':
    case 'setACL':
      return encodeResponse(xid, zxid, payloads.stat(v.stat));
    case 'multi':
      return encodeResponse(xid, zxid, payloads.multi(v.results));
    case 'getEphemerals':
      return encodeResponse(xid, zxid, v.paths);
    default:
      return encodeResponse(xid, zxid, null);
  }
}
