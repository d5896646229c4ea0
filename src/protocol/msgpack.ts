// The MessagePack codecs. `useRecords: false` keeps to standard MessagePack that any client can
// read; int64/uint64 decode as bigint (msgpackr's default int64AsType); integral numbers above
// 2^32 (ctime, mtime) are written by msgpackr as float64, so they come back as numbers, never bigint.
import { Packr, Unpackr } from 'msgpackr';
import { ProtocolError } from './errors.js';

/** Encoder shared by everything in this thread: msgpackr reuses its internal buffer between calls
 * and every returned Buffer is a fresh range of it, safe to keep. */
export const packr = new Packr({ useRecords: false, int64AsType: 'bigint' });

/**
 * Decoder for transient input (uWS's ArrayBuffer is valid only during its callback): binaries are
 * copied out, exactly once, so data outlives the frame and the frame's memory is not pinned.
 */
const unpackrCopying = new Unpackr({ useRecords: false, int64AsType: 'bigint', copyBuffers: true, mapsAsObjects: false });

/**
 * Decoder for input the caller owns and never reuses (a ws Buffer): binaries are views into the
 * input, no copy at all; a kept view keeps the frame's memory alive.
 */
const unpackrViews = new Unpackr({ useRecords: false, int64AsType: 'bigint', copyBuffers: false, mapsAsObjects: false });

export function pack(value: unknown): Buffer {
  return packr.pack(value);
}

/** One MessagePack value filling the whole frame, or ProtocolError. */
export function unpackFrame(bytes: Uint8Array, copyBinaries: boolean, frameBytesMax: number): unknown {
  if (bytes.byteLength === 0) throw new ProtocolError('empty frame');
  if (bytes.byteLength > frameBytesMax) throw new ProtocolError(`frame of ${bytes.byteLength} bytes, over the limit of ${frameBytesMax}`);
  try {
    return (copyBinaries ? unpackrCopying : unpackrViews).unpack(bytes);
  } catch (e) {
    // msgpackr throws plain Errors (truncated data, trailing bytes, bad type bytes): all malformed.
    throw new ProtocolError(`malformed MessagePack: ${e instanceof Error ? e.message.slice(0, 200) : String(e)}`);
  }
}
