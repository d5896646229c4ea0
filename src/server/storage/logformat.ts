// The byte format of txn log segments, and the scan that validates one. Pure: no I/O.
//
//   segment:  [magic "ZKLG" | u32 version | u64 reserved]  16 bytes, written before any record
//             [record][record]...[record][00 00 00 ...]     zero fill up to the preallocated size
//   record:   [u32 length | u32 crc32c | u64 zxid | payload]    little endian
//             length = 8 + payload bytes (so 0 can only be zero fill = end of log)
//             crc32c covers the `length` bytes after the crc: zxid + payload
//
// A torn write (the process or machine died mid-write) leaves the last record with a length
// reaching past the file end, a CRC that does not match, or a zeroed head; the scan stops there.
// To tell a torn tail from damage in the middle, the scan looks past the bad spot for a record
// that still verifies (the next record by length, or the next few expected zxids): if one exists,
// acknowledged data follows the bad spot and recovery must stop loudly instead of truncating.
import { crc32c } from '@node-rs/crc32';
import { assert } from '../../common/assert.js';
import { zxidEpoch, zxidHex } from '../../common/zxid.js';
import { storageLimits as L } from './limits.js';

export const logMagic = 0x474c4b5a; // "ZKLG" read as u32 LE
export const logFormatVersion = 1;
export const recordFixedBytes = L.logRecordHeadBytes + L.logRecordZxidBytes;
const lengthMax = L.logRecordZxidBytes + L.logRecordPayloadBytesMax;
/** How many following zxids the scan searches for after a bad record, and hits checked per zxid. */
const lookaheadZxids = 4;
const lookaheadHitsMax = 64;
const zeroChunk = Buffer.alloc(64 * 1024);

export function encodeSegmentHeader(): Buffer {
  const b = Buffer.alloc(L.logSegmentHeaderBytes);
  b.writeUInt32LE(logMagic, 0);
  b.writeUInt32LE(logFormatVersion, 4);
  return b;
}

export function recordBytes(payloadBytes: number): number {
  return recordFixedBytes + payloadBytes;
}

/** Writes one record at dst[offset]; returns its size. */
export function encodeRecord(dst: Buffer, offset: number, zxid: bigint, payload: Uint8Array): number {
  assert(payload.length <= L.logRecordPayloadBytesMax, 'record payload within bound');
  const size = recordBytes(payload.length);
  assert(offset + size <= dst.length, 'record fits the buffer');
  dst.writeUInt32LE(L.logRecordZxidBytes + payload.length, offset);
  dst.writeBigUInt64LE(zxid, offset + 8);
  dst.set(payload, offset + recordFixedBytes);
  const crc = crc32c(dst.subarray(offset + 8, offset + size));
  dst.writeUInt32LE(crc, offset + 4);
  return size;
}

/** True if zxid b may directly follow a (no gap): next counter, or the first of a later epoch. */
export function zxidFollows(a: bigint, b: bigint): boolean {
  if (zxidEpoch(b) > zxidEpoch(a)) return true;
  return b === a + 1n;
}

export interface ScannedRecord {
  zxid: bigint;
  offset: number; // of the record head
  size: number; // whole record
}

export type ScanEnd =
  /** Zero fill or end of file right after the last record. */
  | { kind: 'clean' }
  /** A bad record with nothing valid after it: a torn tail, truncatable in the last segment. */
  | { kind: 'torn'; offset: number; reason: string }
  /** A bad spot followed by valid data, or valid records out of order: never truncated. */
  | { kind: 'corrupt'; offset: number; reason: string };

export interface SegmentScan {
  records: ScannedRecord[];
  /** Byte after the last good record: where the next record goes. */
  endOffset: number;
  end: ScanEnd;
}

/** The length of a record at `pos` if it is whole and its CRC verifies, else 0. */
function validRecordAt(buf: Buffer, pos: number): number {
  if (pos < 0 || pos + recordFixedBytes > buf.length) return 0;
  const length = buf.readUInt32LE(pos);
  if (length < L.logRecordZxidBytes || length > lengthMax) return 0;
  if (pos + L.logRecordHeadBytes + length > buf.length) return 0;
  const crc = crc32c(buf.subarray(pos + 8, pos + 8 + length));
  return crc === buf.readUInt32LE(pos + 4) ? L.logRecordHeadBytes + length : 0;
}

function isAllZero(buf: Buffer, from: number): boolean {
  for (let pos = from; pos < buf.length; pos += zeroChunk.length) {
    const end = Math.min(buf.length, pos + zeroChunk.length);
    if (buf.compare(zeroChunk, 0, end - pos, pos, end) !== 0) return false;
  }
  return true;
}

/** Is there a record that verifies somewhere after the bad spot at `bad`? */
function validDataAfter(buf: Buffer, bad: number, expected: bigint): boolean {
  const length = bad + 4 <= buf.length ? buf.readUInt32LE(bad) : 0;
  if (length >= L.logRecordZxidBytes && length <= lengthMax) {
    if (validRecordAt(buf, bad + L.logRecordHeadBytes + length) > 0) return true;
  }
  const needle = Buffer.alloc(8);
  for (let k = 0n; k < BigInt(lookaheadZxids); k++) {
    needle.writeBigUInt64LE(expected + k);
    let from = bad + L.logRecordHeadBytes;
    for (let hits = 0; hits < lookaheadHitsMax; hits++) {
      const at = buf.indexOf(needle, from);
      if (at < 0) break;
      if (validRecordAt(buf, at - L.logRecordHeadBytes) > 0) return true;
      from = at + 1;
    }
  }
  return false;
}

/**
 * Validates a whole segment file image. `prevZxid` is the last zxid of the previous segment (or
 * null for the first one); `nameZxid` is the zxid in the file name, a lower bound of its records.
 */
export function scanSegment(buf: Buffer, nameZxid: bigint, prevZxid: bigint | null): SegmentScan {
  const records: ScannedRecord[] = [];
  const corrupt = (offset: number, reason: string): SegmentScan => ({
    records,
    endOffset: offset,
    end: { kind: 'corrupt', offset, reason },
  });
  if (buf.length < L.logSegmentHeaderBytes) return corrupt(0, `segment shorter than its ${L.logSegmentHeaderBytes}-byte header`);
  if (buf.readUInt32LE(0) !== logMagic) return corrupt(0, 'bad segment magic');
  if (buf.readUInt32LE(4) !== logFormatVersion) return corrupt(0, `unknown segment version ${buf.readUInt32LE(4)}`);

  let last = prevZxid;
  let pos = L.logSegmentHeaderBytes;
  for (;;) {
    if (pos === buf.length) return { records, endOffset: pos, end: { kind: 'clean' } };
    let reason: string;
    const size = validRecordAt(buf, pos);
    if (size > 0) {
      const zxid = buf.readBigUInt64LE(pos + 8);
      if (zxid < nameZxid) return corrupt(pos, `zxid ${zxidHex(zxid)} below the segment's first zxid ${zxidHex(nameZxid)}`);
      if (last !== null && zxid <= last) return corrupt(pos, `zxid ${zxidHex(zxid)} not above ${zxidHex(last)}`);
      if (last !== null && !zxidFollows(last, zxid)) return corrupt(pos, `gap in zxids: ${zxidHex(last)} then ${zxidHex(zxid)}`);
      records.push({ zxid, offset: pos, size });
      last = zxid;
      pos += size;
      continue;
    }
    if (pos + recordFixedBytes > buf.length) {
      if (isAllZero(buf, pos)) return { records, endOffset: pos, end: { kind: 'clean' } };
      reason = 'partial record header at end of file';
    } else {
      const length = buf.readUInt32LE(pos);
      if (length === 0) {
        if (isAllZero(buf, pos)) return { records, endOffset: pos, end: { kind: 'clean' } };
        reason = 'zero length followed by non-zero bytes';
      } else if (length < L.logRecordZxidBytes || length > lengthMax) {
        reason = `implausible record length ${length}`;
      } else if (pos + L.logRecordHeadBytes + length > buf.length) {
        reason = `record of length ${length} runs past end of file`;
      } else {
        reason = 'CRC32C mismatch';
      }
    }
    const expected = last === null ? nameZxid : last + 1n;
    if (validDataAfter(buf, pos, expected)) return corrupt(pos, `${reason}, followed by valid records`);
    return { records, endOffset: pos, end: { kind: 'torn', offset: pos, reason } };
  }
}
