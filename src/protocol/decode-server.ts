// Client side: decode and validate a server -> client frame, and the per-opcode result payloads.
// A malformed frame throws ProtocolError; the client then drops the connection and reconnects.
import { constants } from '../common/constants.js';
import { isErrorCode, type ErrorCode } from '../common/errors.js';
import type { ACL, OpResult, Stat } from '../common/types.js';
import { Opcode, ServerKind, wireToErrorCodeName, wireToEventType } from './codes.js';
import { ProtocolError } from './errors.js';
import * as f from './fields.js';
import { protocolLimits } from './limits.js';
import type { ErrorDetail, ServerMessage } from './messages.js';
import { unpackFrame } from './msgpack.js';

/**
 * Decode one server frame. Binaries (getData's data) are views into `bytes` unless
 * `copyBinaries`: a ws Buffer is never reused, so the client keeps views (no copy).
 */
export function decodeServerFrame(bytes: Uint8Array, frameBytesMax: number = constants.frameBytesMax, copyBinaries = false): ServerMessage {
  return decodeServerMessage(unpackFrame(bytes, copyBinaries, frameBytesMax));
}

export function decodeServerMessage(value: unknown): ServerMessage {
  const a = f.expectArray(value, 'message', 3, 7);
  const head = a[0];
  if (typeof head !== 'number') return f.fail('message', `first element must be an xid or kind, got ${typeof head}`);
  if (head >= 0) {
    if (a.length !== 4) f.fail('response', `expected 4 elements, got ${a.length}`);
    return { kind: 'response', xid: f.u32(head, 'xid'), zxid: f.int64(a[1], 'zxid'), error: a[2] === null ? null : errorCode(a[2], 'response.error'), payload: a[3] };
  }
  switch (head) {
    case ServerKind.watch: {
      if (a.length !== 4) f.fail('watch', `expected 4 elements, got ${a.length}`);
      const type = wireToEventType[f.int(a[2], 'watch.type', 1, 4)]!;
      return { kind: 'watch', zxid: f.int64(a[1], 'watch.zxid'), type, path: f.path(a[3], 'watch.path') };
    }
    case ServerKind.connected: {
      if (a.length !== 7) f.fail('connected', `expected 7 elements, got ${a.length}`);
      const password = f.bytes(a[4], 'connected.password', protocolLimits.passwordBytes);
      if (password.byteLength !== protocolLimits.passwordBytes) f.fail('connected.password', `expected ${protocolLimits.passwordBytes} bytes`);
      return {
        kind: 'connected',
        protocolVersion: f.u32(a[1], 'connected.protocolVersion'),
        sessionTimeoutMs: f.int(a[2], 'connected.sessionTimeoutMs', 1, protocolLimits.sessionTimeoutMsMax),
        sessionId: f.int64(a[3], 'connected.sessionId'),
        password: Uint8Array.prototype.slice.call(password), // kept for the session's life: own it
        readOnly: f.bool(a[5], 'connected.readOnly'),
        dataBytesMax: f.int(a[6], 'connected.dataBytesMax', 0, protocolLimits.frameBytesMax),
      };
    }
    case ServerKind.closing: {
      if (a.length !== 3) f.fail('closing', `expected 3 elements, got ${a.length}`);
      return { kind: 'closing', code: errorCode(a[1], 'closing.code'), reason: f.str(a[2], 'closing.reason', protocolLimits.errorMessageBytesMax) };
    }
    default:
      return f.fail('message', `unknown kind ${head}`);
  }
}

function errorCode(value: unknown, what: string): ErrorCode {
  const n = f.int(value, what, -0x8000_0000, 0x7fff_ffff);
  const name = wireToErrorCodeName(n);
  if (name === undefined || !isErrorCode(name)) return f.fail(what, `unknown error code ${n}`);
  return name;
}

function opCode(value: unknown, what: string): ErrorCode | 'OK' {
  const n = f.int(value, what, -0x8000_0000, 0x7fff_ffff);
  const name = wireToErrorCodeName(n);
  if (name === undefined) return f.fail(what, `unknown error code ${n}`);
  return name;
}

/** Data out of the API is a Buffer: wrap a plain Uint8Array view without copying. */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function names(value: unknown, what: string): string[] {
  const arr = f.expectArray(value, what, 0, protocolLimits.childrenListedMax);
  for (let i = 0; i < arr.length; i++) if (typeof arr[i] !== 'string') f.fail(what, 'expected strings');
  return arr as string[];
}

/** Decoders of success payloads, by result shape. Each validates fully. */
export const results = {
  none(p: unknown): void {
    if (p !== null) f.fail('payload', 'expected nil');
  },
  stat(p: unknown): Stat {
    return f.stat(p);
  },
  statOrNull(p: unknown): Stat | null {
    return p === null ? null : f.stat(p);
  },
  create(p: unknown): string {
    return f.path(p, 'create result');
  },
  create2(p: unknown): { path: string; stat: Stat } {
    const a = f.expectArray(p, 'create2 result', 2, 2);
    return { path: f.path(a[0], 'create2 path'), stat: f.stat(a[1]) };
  },
  getData(p: unknown): { data: Buffer; stat: Stat } {
    const a = f.expectArray(p, 'getData result', 2, 2);
    return { data: asBuffer(f.bytes(a[0], 'getData data', protocolLimits.frameBytesMax)), stat: f.stat(a[1]) };
  },
  getChildren(p: unknown): { children: string[]; stat: Stat | null } {
    const a = f.expectArray(p, 'getChildren result', 2, 2);
    return { children: names(a[0], 'getChildren children'), stat: a[1] === null ? null : f.stat(a[1]) };
  },
  getACL(p: unknown): { acl: ACL[]; stat: Stat } {
    const a = f.expectArray(p, 'getACL result', 2, 2);
    return { acl: f.acl(a[0], 'getACL acl'), stat: f.stat(a[1]) };
  },
  number(p: unknown): number {
    return f.int(p, 'count', 0, Number.MAX_SAFE_INTEGER);
  },
  paths(p: unknown): string[] {
    return names(p, 'paths');
  },
  multi(p: unknown, opsCount: number): OpResult[] {
    const a = f.expectArray(p, 'multi result', opsCount, opsCount);
    const out: OpResult[] = new Array<OpResult>(a.length);
    for (let i = 0; i < a.length; i++) {
      const r = f.expectArray(a[i], 'multi result op', 1, 2);
      switch (r[0]) {
        case Opcode.create:
          out[i] = { op: 'create', path: f.path(r[1], 'multi create path') };
          break;
        case Opcode.delete:
          out[i] = { op: 'delete' };
          break;
        case Opcode.setData:
          out[i] = { op: 'setData', stat: f.stat(r[1]) };
          break;
        case Opcode.check:
          out[i] = { op: 'check' };
          break;
        default:
          f.fail('multi result op', `unknown opcode ${String(r[0])}`);
      }
    }
    return out;
  },
};

/** The payload of an error response: null | message | [message | null, perOpCodes] (multi). */
export function decodeErrorPayload(p: unknown): ErrorDetail {
  if (p === null) return { message: null, opCodes: null };
  if (typeof p === 'string') return { message: f.str(p, 'error message', protocolLimits.errorMessageBytesMax), opCodes: null };
  const a = f.expectArray(p, 'error detail', 2, 2);
  const message = a[0] === null ? null : f.str(a[0], 'error message', protocolLimits.errorMessageBytesMax);
  const codes = f.expectArray(a[1], 'multi codes', 0, protocolLimits.multiOpsMax);
  return { message, opCodes: codes.map((c) => opCode(c, 'multi code')) };
}

export { ProtocolError };
