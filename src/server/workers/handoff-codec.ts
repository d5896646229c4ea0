// The hand-off's frame bodies (handoff.ts): a worker's batch of write requests, and a commit
// message for a worker. A compact little-endian layout for what every write carries; the rare
// shapes (multi, setACL, sync, getEphemerals, close; multi results, getEphemerals paths, errors
// with results) go as one MessagePack value inside the frame. Both ends are this module, in the
// same build: the layout is not a wire format and has no version.
//
//   writes  = u8 1, u32 n, n x request
//   request = u64 sessionId, f64 tag, u8 nAuth, nAuth x (str scheme, str id), op
//   op      = u8 1 setData, str path, bin data, i32 version
//           | u8 2 create,  str path, bin data, u8 mode, acl, f64 ttlMs
//           | u8 3 delete,  str path, i32 version
//           | u8 0 other,   bin msgpack(op)
//   acl     = u16 n, n x (u8 perms, str scheme, str id)
//   commit  = u8 2, u64 zxid, u32 nEvents, nEvents x (u8 type, str path, u64 zxid),
//             u32 nReplies, nReplies x (f64 tag, u64 sessionId, u64 zxid, u32 eventsBefore, result),
//             u32 nEnded, nEnded x (u64 sessionId, u8 expired)
//   result  = u8 1 setData stat | 2 setACL stat | 3 create str path, stat | 4 delete | 5 sync
//           | u8 6 closeSession | 7 error str code, u8 has (1 message, 2 path), [str message], [str path]
//           | u8 0 other, bin msgpack(result)
//   stat    = u64 czxid, mzxid, pzxid, f64 ctime, mtime, i32 version, cversion, aversion,
//             u64 ephemeralOwner, u32 dataLength, numChildren
//   control = u8 3, msgpack(message)   a worker's other messages (attach, detach, touch, stats),
//             on the same ring as its writes so the main thread sees them in the order sent
//   str     = u32 bytes, UTF-8;  bin = u32 bytes, bytes
// Decoded binaries are views into the frame body, which is the frame's own copy (ring.ts take).
import { Packr, Unpackr } from 'msgpackr';
import { assert } from '../../common/assert.js';
import { createModes, type ACL, type CreateMode, type Stat } from '../../common/types.js';
import type { ChangeEventType, WriteOp, WriteRequest, WriteResult } from '../pipeline/api.js';
import type { CommitMessage, CommitReply, ToMain } from './messages.js';

/** A worker message that travels on the hand-off ring with its writes. */
export type ControlToMain = Extract<ToMain, { kind: 'attach' | 'detach' | 'touch' | 'stats' }>;

const packr = new Packr({ useRecords: false, int64AsType: 'bigint' });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true, copyBuffers: false });

const FRAME_WRITES = 1;
const FRAME_COMMIT = 2;
const FRAME_CONTROL = 3;
const eventTypes: readonly ChangeEventType[] = ['created', 'deleted', 'dataChanged', 'childrenChanged'];
const noEvents: CommitReply['events'] = [];

/**
 * Appends to one scratch buffer, reused by every encode of this thread (the ring copies it).
 * Fixed-width fields go through a DataView (V8 builtins; Buffer's writeBigUInt64LE is JS bigint
 * arithmetic and showed up in profiles at 3x the cost).
 */
class Encoder {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private pos = 0;

  reset(): void {
    this.pos = 0;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  i32(v: number): void {
    this.room(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  u64(v: bigint): void {
    assert(v >= 0n && v < 0x1_0000_0000_0000_0000n, 'handoff frame: a u64 field');
    this.room(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  str(s: string): void {
    const len = s.length;
    this.room(4 + 3 * len);
    // Paths and auth ids are short and mostly ASCII: a byte loop is ~2x faster than Buffer.write.
    if (len <= 64) {
      const at = this.pos + 4;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        this.buf[at + i] = c;
      }
      if (i === len) {
        this.view.setUint32(this.pos, len, true);
        this.pos = at + len;
        return;
      }
    }
    const n = this.buf.write(s, this.pos + 4, 'utf8');
    this.view.setUint32(this.pos, n, true);
    this.pos += 4 + n;
  }

  bin(b: Uint8Array): void {
    this.room(4 + b.byteLength);
    this.view.setUint32(this.pos, b.byteLength, true);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.byteLength;
  }

  /** The bytes encoded so far: valid until the next encode of this thread. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

class Decoder {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Buffer) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    assert(this.pos + n <= this.buf.length, 'handoff frame: truncated');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  str(): string {
    const n = this.u32();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  bin(): Buffer {
    const n = this.u32();
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  done(): void {
    assert(this.pos === this.buf.length, 'handoff frame: trailing bytes');
  }
}

const enc = new Encoder();

function toBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

// ------------------------------------------------------------------ write requests

function encodeAcl(acl: ACL[]): void {
  enc.u16(acl.length);
  for (const a of acl) {
    enc.u8(a.perms);
    enc.str(a.scheme);
    enc.str(a.id);
  }
}

function decodeAcl(d: Decoder): ACL[] {
  const n = d.u16();
  const acl: ACL[] = [];
  for (let i = 0; i < n; i++) acl.push({ perms: d.u8(), scheme: d.str(), id: d.str() });
  return acl;
}

function encodeOp(op: WriteOp): void {
  switch (op.type) {
    case 'setData':
      enc.u8(1);
      enc.str(op.path);
      enc.bin(op.data);
      enc.i32(op.version);
      return;
    case 'create':
      enc.u8(2);
      enc.str(op.path);
      enc.bin(op.data);
      enc.u8(createModes.indexOf(op.mode));
      encodeAcl(op.acl);
      enc.f64(op.ttlMs);
      return;
    case 'delete':
      enc.u8(3);
      enc.str(op.path);
      enc.i32(op.version);
      return;
    default:
      enc.u8(0);
      enc.bin(packr.pack(op));
  }
}

function decodeOp(d: Decoder): WriteOp {
  const kind = d.u8();
  switch (kind) {
    case 1:
      return { type: 'setData', path: d.str(), data: d.bin(), version: d.i32() };
    case 2: {
      const path = d.str();
      const data = d.bin();
      const mode = createModes[d.u8()];
      assert(mode !== undefined, 'handoff frame: create mode');
      return { type: 'create', path, data, mode: mode satisfies CreateMode, acl: decodeAcl(d), ttlMs: d.f64() };
    }
    case 3:
      return { type: 'delete', path: d.str(), version: d.i32() };
    case 0:
      return unpackr.unpack(d.bin()) as WriteOp;
    default:
      throw new Error(`handoff frame: op kind ${kind}`);
  }
}

/** A worker's batch of writes as one frame body (valid until the next encode of this thread). */
export function encodeWrites(requests: readonly WriteRequest[]): Uint8Array {
  enc.reset();
  enc.u8(FRAME_WRITES);
  enc.u32(requests.length);
  for (const r of requests) {
    assert(r.origin === undefined, 'a worker request has no origin (a leader sets it)');
    enc.u64(r.sessionId);
    enc.f64(r.tag);
    assert(r.authIds.length <= 255, 'auth ids per connection fit a byte');
    enc.u8(r.authIds.length);
    for (const a of r.authIds) {
      enc.str(a.scheme);
      enc.str(a.id);
    }
    encodeOp(r.op);
  }
  return enc.bytes();
}

// ------------------------------------------------------------------ commits

function encodeStat(s: Stat): void {
  enc.u64(s.czxid);
  enc.u64(s.mzxid);
  enc.u64(s.pzxid);
  enc.f64(s.ctime);
  enc.f64(s.mtime);
  enc.i32(s.version);
  enc.i32(s.cversion);
  enc.i32(s.aversion);
  enc.u64(s.ephemeralOwner);
  enc.u32(s.dataLength);
  enc.u32(s.numChildren);
}

function decodeStat(d: Decoder): Stat {
  return {
    czxid: d.u64(),
    mzxid: d.u64(),
    pzxid: d.u64(),
    ctime: d.f64(),
    mtime: d.f64(),
    version: d.i32(),
    cversion: d.i32(),
    aversion: d.i32(),
    ephemeralOwner: d.u64(),
    dataLength: d.u32(),
    numChildren: d.u32(),
  };
}

function encodeResult(r: WriteResult): void {
  if (r.ok) {
    const v = r.value;
    switch (v.type) {
      case 'setData':
        enc.u8(1);
        encodeStat(v.stat);
        return;
      case 'setACL':
        enc.u8(2);
        encodeStat(v.stat);
        return;
      case 'create':
        enc.u8(3);
        enc.str(v.path);
        encodeStat(v.stat);
        return;
      case 'delete':
        enc.u8(4);
        return;
      case 'sync':
        enc.u8(5);
        return;
      case 'closeSession':
        enc.u8(6);
        return;
    }
  } else if (r.results === undefined) {
    enc.u8(7);
    enc.str(r.code);
    enc.u8((r.message !== undefined ? 1 : 0) | (r.path !== undefined ? 2 : 0));
    if (r.message !== undefined) enc.str(r.message);
    if (r.path !== undefined) enc.str(r.path);
    return;
  }
  enc.u8(0);
  enc.bin(packr.pack(r));
}

function decodeResult(d: Decoder): WriteResult {
  const kind = d.u8();
  switch (kind) {
    case 1:
      return { ok: true, value: { type: 'setData', stat: decodeStat(d) } };
    case 2:
      return { ok: true, value: { type: 'setACL', stat: decodeStat(d) } };
    case 3:
      return { ok: true, value: { type: 'create', path: d.str(), stat: decodeStat(d) } };
    case 4:
      return { ok: true, value: { type: 'delete' } };
    case 5:
      return { ok: true, value: { type: 'sync' } };
    case 6:
      return { ok: true, value: { type: 'closeSession' } };
    case 7: {
      const code = d.str() as Extract<WriteResult, { ok: false }>['code'];
      const has = d.u8();
      const r: Extract<WriteResult, { ok: false }> = { ok: false, code };
      if (has & 1) r.message = d.str();
      if (has & 2) r.path = d.str();
      return r;
    }
    case 0:
      return unpackr.unpack(d.bin()) as WriteResult;
    default:
      throw new Error(`handoff frame: result kind ${kind}`);
  }
}

/** A commit message as one frame body (valid until the next encode of this thread). */
export function encodeCommit(m: CommitMessage): Uint8Array {
  enc.reset();
  enc.u8(FRAME_COMMIT);
  enc.u64(m.zxid);
  enc.u32(m.events.length);
  for (const e of m.events) {
    enc.u8(eventTypes.indexOf(e.type));
    enc.str(e.path);
    enc.u64(e.zxid);
  }
  enc.u32(m.replies.length);
  for (const r of m.replies) {
    assert(r.events.length === 0, "a reply's events travel in the message's events");
    enc.f64(r.tag);
    enc.u64(r.sessionId);
    enc.u64(r.zxid);
    enc.u32(r.eventsBefore);
    encodeResult(r.result);
  }
  enc.u32(m.endedSessions.length);
  for (const s of m.endedSessions) {
    enc.u64(s.sessionId);
    enc.u8(s.expired ? 1 : 0);
  }
  return enc.bytes();
}

// ------------------------------------------------------------------ decoding

/** A worker's control message as one frame body (valid until the next encode of this thread). */
export function encodeControl(m: ControlToMain): Uint8Array {
  enc.reset();
  enc.u8(FRAME_CONTROL);
  enc.bin(packr.pack(m));
  return enc.bytes();
}

export type HandoffFrame = { kind: 'writes'; requests: WriteRequest[] } | CommitMessage | { kind: 'control'; msg: ControlToMain };

/** Decodes one frame body. A malformed body is a bug on this side of the hand-off: it asserts. */
export function decodeFrame(body: Uint8Array): HandoffFrame {
  const d = new Decoder(toBuffer(body));
  const kind = d.u8();
  if (kind === FRAME_WRITES) {
    const n = d.u32();
    const requests: WriteRequest[] = [];
    for (let i = 0; i < n; i++) {
      const sessionId = d.u64();
      const tag = d.f64();
      const nAuth = d.u8();
      const authIds: WriteRequest['authIds'] = [];
      for (let j = 0; j < nAuth; j++) authIds.push({ scheme: d.str(), id: d.str() });
      requests.push({ sessionId, tag, authIds, op: decodeOp(d) });
    }
    d.done();
    return { kind: 'writes', requests };
  }
  if (kind === FRAME_CONTROL) {
    const msg = unpackr.unpack(d.bin()) as ControlToMain;
    d.done();
    return { kind: 'control', msg };
  }
  assert(kind === FRAME_COMMIT, () => `handoff frame: kind ${kind}`);
  const zxid = d.u64();
  const events: CommitMessage['events'] = [];
  for (let n = d.u32(), i = 0; i < n; i++) {
    const type = eventTypes[d.u8()];
    assert(type !== undefined, 'handoff frame: event type');
    events.push({ type, path: d.str(), zxid: d.u64() });
  }
  const replies: CommitReply[] = [];
  for (let n = d.u32(), i = 0; i < n; i++) {
    const tag = d.f64();
    const sessionId = d.u64();
    const rzxid = d.u64();
    const eventsBefore = d.u32();
    replies.push({ tag, sessionId, zxid: rzxid, eventsBefore, result: decodeResult(d), events: noEvents });
  }
  const endedSessions: CommitMessage['endedSessions'] = [];
  for (let n = d.u32(), i = 0; i < n; i++) endedSessions.push({ sessionId: d.u64(), expired: d.u8() === 1 });
  d.done();
  return { kind: 'commit', zxid, events, replies, endedSessions };
}
