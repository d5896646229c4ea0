// Frames on peer links: a 4-byte big-endian body length, then one MessagePack value filling the
// body. The first frame of every connection is the hello, so the receiver knows who speaks.
//
//   +----------------+-----------------------------+
//   | length (u32 BE)| msgpack body (length bytes) |
//   +----------------+-----------------------------+
import { Packr, Unpackr } from 'msgpackr';
import { assert } from '../../common/assert.js';

/** Bumped when the frame layout or the hello changes; a mismatch closes the connection. */
export const PEER_PROTOCOL_VERSION = 1;
const HELLO_TAG = 'zookooper-peer';
export const FRAME_HEADER_BYTES = 4;
/** Below this a frame is copied into one buffer (one socket write); above, header and body are
 *  written separately (corked) so a large proposal or SNAP chunk is not copied. */
const COALESCE_BYTES_MAX = 16 * 1024;

// int64AsType 'bigint': int64/uint64 decode as bigint, and msgpackr writes every bigint as an
// int64/uint64, so a bigint comes back a bigint (zxids, session ids). Numbers stay numbers.
const packr = new Packr({ useRecords: false, int64AsType: 'bigint' });
// copyBuffers: decoded binaries are copied out of the receive buffer, so a kept payload never
// pins a socket chunk and a partial-frame buffer can be dropped once decoded.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint', copyBuffers: true });

/** One encoded frame, as the buffers to write in order (one or two). */
export type Frame = readonly Buffer[];

export function frameBytes(frame: Frame): number {
  let n = 0;
  for (const b of frame) n += b.byteLength;
  return n;
}

/** A binary at least this large as a payload's last field is written from where it lies (below). */
const TRAILING_BINARY_MIN_BYTES = 64 * 1024;
const EMPTY = new Uint8Array(0);

/** The payload's last own field, if it is a large binary (a SNAP chunk: the stream puts it last). */
function trailingBinary(payload: unknown): { key: string; bytes: Uint8Array } | null {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || payload instanceof Uint8Array) return null;
  const keys = Object.keys(payload);
  const key = keys[keys.length - 1];
  if (key === undefined) return null;
  const v = (payload as Record<string, unknown>)[key];
  return v instanceof Uint8Array && v.byteLength >= TRAILING_BINARY_MIN_BYTES ? { key, bytes: v } : null;
}

/**
 * The payload packed with its trailing binary left empty, then that map's last value re-headed as a
 * bin 32 of the real length, followed by the bytes themselves: one valid MessagePack value, as if
 * packed whole, without the copy into msgpackr's buffer. For SNAP chunks that copy was the leader's
 * biggest cost (1.8 s of a 1M-znode SNAP: every chunk landed in fresh, first-touched memory).
 */
function encodeAroundBinary(payload: object, key: string, bytes: Uint8Array): { frame: Frame; bodyBytes: number } {
  const head = packr.pack({ ...payload, [key]: EMPTY });
  const n = head.byteLength;
  assert(n >= 2 && head[n - 2] === 0xc4 && head[n - 1] === 0x00, 'msgpackr ends the map with the empty bin 8');
  const binHeader = Buffer.allocUnsafe(5);
  binHeader[0] = 0xc6;
  binHeader.writeUInt32BE(bytes.byteLength, 1);
  const bodyBytes = n - 2 + 5 + bytes.byteLength;
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(bodyBytes, 0);
  const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { frame: [header, head.subarray(0, n - 2), binHeader, raw], bodyBytes };
}

/**
 * Encodes a payload into a frame; returns the body length too so the caller can bound it. A
 * large binary as the payload's last field is not copied: the caller must leave it unchanged.
 */
export function encodeFrame(payload: unknown): { frame: Frame; bodyBytes: number } {
  const tail = trailingBinary(payload);
  if (tail !== null) return encodeAroundBinary(payload as object, tail.key, tail.bytes);
  // msgpackr returns a fresh range of its internal buffer (it never rewrites a returned range), so
  // the body may stay queued in a socket after later encodes.
  const body = packr.pack(payload);
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(body.byteLength, 0);
  if (body.byteLength <= COALESCE_BYTES_MAX) return { frame: [Buffer.concat([header, body])], bodyBytes: body.byteLength };
  return { frame: [header, body], bodyBytes: body.byteLength };
}

export function encodeHello(serverId: number): Frame {
  return encodeFrame({ hello: HELLO_TAG, version: PEER_PROTOCOL_VERSION, serverId }).frame;
}

export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

/** One MessagePack value filling the whole body, or the reason it is not one. */
export function decodeBody(body: Uint8Array): Decoded {
  // 0xc1 is "never used" in MessagePack; msgpackr decodes it to a placeholder object rather than
  // failing, so refuse it here (nested ones are for the message validator to refuse).
  if (body[0] === 0xc1) return { ok: false, reason: 'malformed MessagePack: reserved type byte 0xc1' };
  try {
    const value: unknown = unpackr.unpack(body);
    if (value === undefined) return { ok: false, reason: 'malformed MessagePack: undefined is not a message' };
    return { ok: true, value };
  } catch (e) {
    // msgpackr throws plain Errors (truncated data, trailing bytes); its message may embed the
    // decoded data, so keep the reason short.
    return { ok: false, reason: `malformed MessagePack: ${e instanceof Error ? e.message.slice(0, 120) : String(e)}` };
  }
}

/** The peer id a hello names, or the reason it is not a hello. */
export function parseHello(value: unknown): { ok: true; serverId: number } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'first frame is not a hello' };
  const v = value as Record<string, unknown>;
  if (v['hello'] !== HELLO_TAG) return { ok: false, reason: 'first frame is not a hello' };
  if (v['version'] !== PEER_PROTOCOL_VERSION) return { ok: false, reason: `hello with protocol version ${String(v['version'])}, expected ${PEER_PROTOCOL_VERSION}` };
  const id = v['serverId'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return { ok: false, reason: 'hello with a bad serverId' };
  return { ok: true, serverId: id };
}

/**
 * Splits a byte stream into frame bodies. At most one partial frame is buffered, and its size is
 * checked against the bound from its header before any of it is kept, so memory per connection
 * is bounded by the frame bound. A body wholly inside a chunk is passed as a view (no copy).
 */
export class FrameReader {
  private readonly header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;

  /** `bodyBytesMax` is asked per frame: a connection's bound rises once it has said hello. */
  constructor(private readonly bodyBytesMax: () => number) {}

  /**
   * Feeds a chunk; calls onBody for every complete body until it returns false (the connection was
   * closed meanwhile). Returns the reason the stream is invalid, or null.
   */
  push(chunk: Buffer, onBody: (body: Buffer) => boolean): string | null {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.body === null) {
        if (this.headerFill === 0 && chunk.byteLength - at >= FRAME_HEADER_BYTES) {
          const length = chunk.readUInt32BE(at);
          const bad = this.checkLength(length);
          if (bad !== null) return bad;
          at += FRAME_HEADER_BYTES;
          if (chunk.byteLength - at >= length) {
            const keepGoing = onBody(chunk.subarray(at, at + length));
            at += length;
            if (!keepGoing) return null;
            continue;
          }
          this.startBody(length);
          continue;
        }
        const n = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.byteLength - at);
        chunk.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        if (this.headerFill < FRAME_HEADER_BYTES) return null;
        const length = this.header.readUInt32BE(0);
        this.headerFill = 0;
        const bad = this.checkLength(length);
        if (bad !== null) return bad;
        this.startBody(length);
        continue;
      }
      const body = this.body;
      const n = Math.min(body.byteLength - this.bodyFill, chunk.byteLength - at);
      chunk.copy(body, this.bodyFill, at, at + n);
      this.bodyFill += n;
      at += n;
      if (this.bodyFill < body.byteLength) return null;
      this.body = null;
      this.bodyFill = 0;
      if (!onBody(body)) return null;
    }
    return null;
  }

  private checkLength(length: number): string | null {
    if (length === 0) return 'empty frame';
    const max = this.bodyBytesMax();
    if (length > max) return `frame of ${length} bytes, over the limit of ${max}`;
    return null;
  }

  private startBody(length: number): void {
    this.body = Buffer.allocUnsafe(length);
    this.bodyFill = 0;
  }
}
