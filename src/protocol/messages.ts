// Typed views of every message, as the decoders return them and the encoders take them.
// The wire shapes (compact arrays) are in README.md; each type here notes its array layout.
import type { ErrorCode } from '../common/errors.js';
import type { ACL, CreateMode, Stat, WatchedEventType, WatchMode } from '../common/types.js';
import type { Opcode } from './codes.js';

// ---------------------------------------------------------------- client -> server

/** [-10, protocolVersion, lastZxidSeen, sessionTimeoutMs, sessionId, password, readOnly] */
export interface ConnectRequest {
  opcode: typeof Opcode.connect;
  protocolVersion: number;
  lastZxidSeen: bigint;
  sessionTimeoutMs: number;
  sessionId: bigint; // 0n asks for a new session
  password: Uint8Array; // 16 bytes; zeros for a new session
  readOnly: boolean;
}

/** [1|15, xid, path, data, acl, mode, ttlMs] */
export interface CreateRequest {
  opcode: typeof Opcode.create | typeof Opcode.create2;
  xid: number;
  path: string;
  data: Uint8Array;
  acl: ACL[];
  mode: CreateMode;
  ttlMs: number; // 0 unless a *_with_ttl mode
}
/** [2, xid, path, version] */
export interface DeleteRequest {
  opcode: typeof Opcode.delete;
  xid: number;
  path: string;
  version: number;
}
/** [3, xid, path, watch] */
export interface ExistsRequest {
  opcode: typeof Opcode.exists;
  xid: number;
  path: string;
  watch: boolean;
}
/** [4, xid, path, watch] */
export interface GetDataRequest {
  opcode: typeof Opcode.getData;
  xid: number;
  path: string;
  watch: boolean;
}
/** [5, xid, path, data, version] */
export interface SetDataRequest {
  opcode: typeof Opcode.setData;
  xid: number;
  path: string;
  data: Uint8Array;
  version: number;
}
/** [6, xid, path] */
export interface GetACLRequest {
  opcode: typeof Opcode.getACL;
  xid: number;
  path: string;
}
/** [7, xid, path, acl, aclVersion] */
export interface SetACLRequest {
  opcode: typeof Opcode.setACL;
  xid: number;
  path: string;
  acl: ACL[];
  version: number;
}
/** [8, xid, path, watch, withStat] */
export interface GetChildrenRequest {
  opcode: typeof Opcode.getChildren;
  xid: number;
  path: string;
  watch: boolean;
  withStat: boolean;
}
/** [9, xid, path] */
export interface SyncRequest {
  opcode: typeof Opcode.sync;
  xid: number;
  path: string;
}
/** [11, xid] */
export interface PingRequest {
  opcode: typeof Opcode.ping;
  xid: number;
}

/** One op of a multi, without xid: [1, path, data, acl, mode, ttlMs] | [2, path, version] | [5, path, data, version] | [13, path, version] */
export type MultiOp =
  | { opcode: typeof Opcode.create; path: string; data: Uint8Array; acl: ACL[]; mode: CreateMode; ttlMs: number }
  | { opcode: typeof Opcode.delete; path: string; version: number }
  | { opcode: typeof Opcode.setData; path: string; data: Uint8Array; version: number }
  | { opcode: typeof Opcode.check; path: string; version: number };

/** [14, xid, [op, ...]] */
export interface MultiRequest {
  opcode: typeof Opcode.multi;
  xid: number;
  ops: MultiOp[];
}
/** [17|18, xid, path, watchBits] — watchBits is a set of WatchBits */
export interface WatchesRequest {
  opcode: typeof Opcode.checkWatches | typeof Opcode.removeWatches;
  xid: number;
  path: string;
  watchBits: number;
}
/** [100, xid, scheme, credential] */
export interface AddAuthRequest {
  opcode: typeof Opcode.addAuth;
  xid: number;
  scheme: string;
  credential: Uint8Array;
}
/** [103, xid, prefixPath] */
export interface GetEphemeralsRequest {
  opcode: typeof Opcode.getEphemerals;
  xid: number;
  prefix: string;
}
/** [104, xid, path] */
export interface GetAllChildrenNumberRequest {
  opcode: typeof Opcode.getAllChildrenNumber;
  xid: number;
  path: string;
}
/** [105, xid, relativeZxid, dataPaths, existPaths, childPaths, persistentPaths, persistentRecursivePaths] */
export interface SetWatchesRequest {
  opcode: typeof Opcode.setWatches;
  xid: number;
  relativeZxid: bigint;
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
}
/** [106, xid, path, mode] */
export interface AddWatchRequest {
  opcode: typeof Opcode.addWatch;
  xid: number;
  path: string;
  mode: WatchMode;
}
/** [-11, xid] */
export interface CloseRequest {
  opcode: typeof Opcode.close;
  xid: number;
}

/** Every message after the handshake. */
export type Request =
  | CreateRequest
  | DeleteRequest
  | ExistsRequest
  | GetDataRequest
  | SetDataRequest
  | GetACLRequest
  | SetACLRequest
  | GetChildrenRequest
  | SyncRequest
  | PingRequest
  | MultiRequest
  | WatchesRequest
  | AddAuthRequest
  | GetEphemeralsRequest
  | GetAllChildrenNumberRequest
  | SetWatchesRequest
  | AddWatchRequest
  | CloseRequest;

export type ClientMessage = ConnectRequest | Request;

// ---------------------------------------------------------------- server -> client

/** [-10, protocolVersion, sessionTimeoutMs, sessionId, password, readOnly, dataBytesMax] */
export interface ConnectResponse {
  kind: 'connected';
  protocolVersion: number;
  sessionTimeoutMs: number; // negotiated
  sessionId: bigint;
  password: Uint8Array;
  readOnly: boolean;
  dataBytesMax: number; // the server's data limit, so the client can refuse oversized data itself
}
/** [-11, errorCode, reason] */
export interface ClosingMessage {
  kind: 'closing';
  code: ErrorCode;
  reason: string;
}
/** [-1, zxid, eventType, path] */
export interface WatchMessage {
  kind: 'watch';
  zxid: bigint;
  type: WatchedEventType; // only created | deleted | dataChanged | childrenChanged travel
  path: string;
}
/**
 * [xid, zxid, errorCode | null, payload]. `payload` is still in wire form: its shape depends on
 * the request's opcode, which only the sender of the request knows (decode it with
 * decodeResultPayload / decodeErrorPayload).
 */
export interface ResponseMessage {
  kind: 'response';
  xid: number;
  zxid: bigint;
  error: ErrorCode | null;
  payload: unknown;
}
export type ServerMessage = ConnectResponse | ClosingMessage | WatchMessage | ResponseMessage;

/** A decoded error payload: null | message | [message | null, perOpCodes]. */
export interface ErrorDetail {
  message: string | null;
  /** multi only: one code per op, 'OK' for ops before the failing one. */
  opCodes: (ErrorCode | 'OK')[] | null;
}

export type { Stat };
