// Snapshot files: snapshot.<hex zxid> in the snapshot dir.
//
//   header  48 bytes  magic "ZKSN" | u32 version | u64 zxid | u64 metaBytes | u64 imageBytes
//                     | u64 createdMs | u64 reserved                              (little endian)
//   meta    metaBytes   opaque to storage (msgpack of the session table, ...)
//   image   imageBytes  opaque to storage (the shared tree's memory image)
//   trailer 8 bytes   u32 crc32c over header+meta+image | magic "ZKSE"
//
// Written atomically (temp name, fsync, rename, fsync dir), so a snapshot.<hex> file is always
// complete unless the disk itself damaged it; the CRC catches that. Writing is synchronous code
// meant for a piscina worker (src/server/jobs/); loading is async and runs at startup.
import { crc32c } from '@node-rs/crc32';
import { join } from 'node:path';
import { assert } from '../../common/assert.js';
import { zxidHex } from '../../common/zxid.js';
import type { Disk, DiskFile } from '../../io/disk.js';
import { listSnapshots, snapshotFileName, tmpSuffix } from './layout.js';
import { storageLimits as L } from './limits.js';

const snapMagic = 0x4e534b5a; // "ZKSN" as u32 LE
export const trailerMagic = 0x45534b5a; // "ZKSE"
export const snapshotFormatVersion = 1;
/** Version 2 is a SNAP written as it arrived (snapshot-stream.ts): body image | meta | u32 BE meta length, CRC over body then header. */
export const snapshotStreamFormatVersion = 2;

/** An image read piece by piece (a tree capture, which stays the same while the tree changes). */
export interface ImageSource {
  readonly byteLength: number;
  /** Fills `into` with the image's bytes from `offset`. */
  readInto(offset: number, into: Uint8Array): void;
}

export interface SnapshotContent {
  zxid: bigint;
  meta: Uint8Array;
  /** May be a view of a SharedArrayBuffer; copied in chunks so the file matches its CRC. */
  image: Uint8Array | ImageSource;
  /** Header timestamp; default Date.now() (the simulator passes its clock's). */
  createdMs?: number;
  /**
   * The image does not change while the file is written (a SNAP being installed, not the live
   * tree): its chunks are written and checksummed in place, without the private copy.
   */
  imageIsStable?: boolean;
}

export interface LoadedSnapshot {
  zxid: bigint;
  path: string;
  createdMs: number;
  meta: Uint8Array;
  image: Uint8Array;
}

export interface LoadOptions {
  /** Where to put the image (e.g. a view of the tree's SharedArrayBuffer); default a new Buffer. */
  allocImage?: (bytes: number) => Uint8Array;
  /** Called with bytes of this file read so far. */
  onBytes?: (bytesRead: number, bytesTotal: number) => void;
}

export class SnapshotCorruptError extends Error {
  override name = 'SnapshotCorruptError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`snapshot ${path} is corrupt: ${reason}`);
  }
}

export function encodeHeader(zxid: bigint, metaBytes: number, imageBytes: number, createdMs: number, version = snapshotFormatVersion): Buffer {
  const h = Buffer.alloc(L.snapshotHeaderBytes);
  h.writeUInt32LE(snapMagic, 0);
  h.writeUInt32LE(version, 4);
  h.writeBigUInt64LE(zxid, 8);
  h.writeBigUInt64LE(BigInt(metaBytes), 16);
  h.writeBigUInt64LE(BigInt(imageBytes), 24);
  h.writeBigUInt64LE(BigInt(createdMs), 32);
  return h;
}

function writeAllSync(file: DiskFile, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const n = file.writeSync(bytes, done, bytes.length - done, position + done);
    assert(n > 0, 'write makes progress');
    done += n;
  }
}

export async function writeAll(file: DiskFile, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const n = await file.write(bytes, done, bytes.length - done, position + done);
    assert(n > 0, 'write makes progress');
    done += n;
  }
}

/**
 * The file's bytes in order: header, meta, image chunks, trailer. The image is copied chunk by
 * chunk into private memory and checksummed there, so even a SharedArrayBuffer the main thread
 * keeps changing yields a file whose CRC verifies. A yielded chunk is reused by the next one:
 * write it before pulling the next. A stable image (imageIsStable) is yielded as views of itself.
 */
function* snapshotPieces(content: SnapshotContent): Generator<Uint8Array> {
  const { zxid, meta, image } = content;
  assert(meta.length <= L.snapshotMetaBytesMax, 'snapshot meta within bound');
  assert(image.byteLength <= L.snapshotImageBytesMax, 'snapshot image within bound');
  const header = encodeHeader(zxid, meta.length, image.byteLength, content.createdMs ?? Date.now());
  let crc = crc32c(header);
  yield header;
  crc = crc32c(meta, crc);
  yield meta;
  const step = Math.min(L.snapshotChunkBytes, Math.max(1, image.byteLength));
  // Fresh memory is expensive to first-touch on this kind of VM (~0.4 s per 100 MB): a stable
  // image needs no private copy, so none is made.
  const chunk = content.imageIsStable === true && image instanceof Uint8Array ? null : Buffer.allocUnsafe(step);
  for (let off = 0; off < image.byteLength; off += step) {
    const n = Math.min(step, image.byteLength - off);
    let view: Uint8Array;
    if (chunk === null) {
      view = (image as Uint8Array).subarray(off, off + n);
    } else {
      view = chunk.subarray(0, n);
      if (image instanceof Uint8Array) view.set(image.subarray(off, off + n));
      else image.readInto(off, view);
    }
    crc = crc32c(view, crc);
    yield view;
  }
  const trailer = Buffer.alloc(L.snapshotTrailerBytes);
  trailer.writeUInt32LE(crc, 0);
  trailer.writeUInt32LE(trailerMagic, 4);
  yield trailer;
}

function snapshotBytes(content: SnapshotContent): number {
  return L.snapshotHeaderBytes + content.meta.length + content.image.byteLength + L.snapshotTrailerBytes;
}

/**
 * Writes snapshot.<hex zxid> atomically and returns its path. Synchronous: run it in a worker
 * (the piscina job), never on the main thread.
 */
export function writeSnapshotFileSync(disk: Disk, snapDir: string, content: SnapshotContent): string {
  const finalPath = join(snapDir, snapshotFileName(content.zxid));
  const tmpPath = finalPath + tmpSuffix;
  const fd = disk.openSync(tmpPath, 'w+');
  let pos = 0;
  try {
    for (const piece of snapshotPieces(content)) {
      writeAllSync(fd, piece, pos);
      pos += piece.length;
    }
    assert(pos === snapshotBytes(content), 'wrote every section');
    fd.syncSync();
  } catch (err) {
    fd.closeSync();
    disk.unlinkSync(tmpPath);
    throw err;
  }
  fd.closeSync();
  disk.renameSync(tmpPath, finalPath);
  // The rename is only durable once the directory is fsynced; until then a crash may leave the
  // old name set, which is harmless (the temp file is deleted at the next start).
  disk.fsyncDirSync(snapDir);
  return finalPath;
}

/** The same file written with async calls (a SNAP install on the main thread's event loop). */
export async function writeSnapshotFile(disk: Disk, snapDir: string, content: SnapshotContent): Promise<string> {
  const finalPath = join(snapDir, snapshotFileName(content.zxid));
  const tmpPath = finalPath + tmpSuffix;
  const fh = await disk.open(tmpPath, 'w+');
  let pos = 0;
  try {
    for (const piece of snapshotPieces(content)) {
      await writeAll(fh, piece, pos);
      pos += piece.length;
    }
    assert(pos === snapshotBytes(content), 'wrote every section');
    await fh.sync();
  } catch (err) {
    await fh.close();
    await disk.unlink(tmpPath);
    throw err;
  }
  await fh.close();
  await disk.rename(tmpPath, finalPath);
  await disk.fsyncDir(snapDir);
  return finalPath;
}

const readChunkBytes = 8 * 1_048_576;
const readsInFlight = 4; // libuv's default thread pool size

/** Reads and verifies one snapshot file. Throws SnapshotCorruptError on any mismatch. */
export async function loadSnapshotFile(disk: Disk, path: string, expectZxid: bigint, options: LoadOptions = {}): Promise<LoadedSnapshot> {
  const fh = await disk.open(path, 'r');
  try {
    const size = await fh.size();
    let fixed = L.snapshotHeaderBytes + L.snapshotTrailerBytes;
    if (size < fixed) throw new SnapshotCorruptError(path, `file of ${size} bytes is shorter than header and trailer`);
    const header = Buffer.alloc(L.snapshotHeaderBytes);
    await readFully(fh, header, 0);
    if (header.readUInt32LE(0) !== snapMagic) throw new SnapshotCorruptError(path, 'bad magic');
    const version = header.readUInt32LE(4);
    if (version !== snapshotFormatVersion && version !== snapshotStreamFormatVersion) throw new SnapshotCorruptError(path, `unknown format version ${version}`);
    const stream = version === snapshotStreamFormatVersion;
    const zxid = header.readBigUInt64LE(8);
    const metaBytes = Number(header.readBigUInt64LE(16));
    const imageBytes = Number(header.readBigUInt64LE(24));
    if (zxid !== expectZxid) throw new SnapshotCorruptError(path, `header zxid ${zxidHex(zxid)} differs from its name`);
    if (stream) fixed += 4; // the body's u32 meta length
    if (metaBytes > L.snapshotMetaBytesMax || imageBytes > L.snapshotImageBytesMax || fixed + metaBytes + imageBytes !== size) {
      throw new SnapshotCorruptError(path, `section sizes ${metaBytes}+${imageBytes} do not match file size ${size}`);
    }
    const meta = Buffer.allocUnsafe(metaBytes);
    const image = options.allocImage?.(imageBytes) ?? Buffer.allocUnsafe(imageBytes);
    assert(image.length === imageBytes, 'allocImage returned the requested size');
    const trailer = Buffer.alloc(L.snapshotTrailerBytes);
    const metaLength = Buffer.alloc(stream ? 4 : 0);
    // Version 1: header, meta, image in file order. Version 2: the body (image, meta, length), then the header.
    let crc = stream ? 0 : crc32c(header);
    let pos = L.snapshotHeaderBytes;
    const progress = (): void => options.onBytes?.(pos, size);
    // Chunks are read with several reads in flight (libuv's pool runs them on its threads) and
    // checksummed in file order as they complete. Most of a big load is the kernel first-touching
    // fresh pages of the image buffer; in parallel that runs on every core instead of one.
    const chunks: { view: Uint8Array; pos: number; crc: boolean }[] = [];
    for (const part of stream ? [image, meta, metaLength, trailer] : [meta, image, trailer]) {
      for (let off = 0; off < part.length; off += readChunkBytes) {
        const n = Math.min(readChunkBytes, part.length - off);
        chunks.push({ view: part.subarray(off, off + n), pos, crc: part !== trailer });
        pos += n;
      }
    }
    const reads: Promise<void>[] = [];
    const startRead = (i: number): void => {
      const c = chunks[i];
      if (c !== undefined) reads[i] = readFully(fh, c.view, c.pos);
    };
    for (let i = 0; i < readsInFlight; i++) startRead(i);
    pos = L.snapshotHeaderBytes;
    try {
      for (let i = 0; i < chunks.length; i++) {
        await reads[i];
        startRead(i + readsInFlight);
        const c = chunks[i]!;
        if (c.crc) crc = crc32c(c.view, crc);
        pos = c.pos + c.view.length;
        progress();
      }
    } finally {
      // Never leave reads running into a buffer the caller may drop on error.
      await Promise.allSettled(reads);
    }
    if (stream) {
      if (metaLength.readUInt32BE(0) !== metaBytes) throw new SnapshotCorruptError(path, 'the body\'s meta length differs from the header');
      crc = crc32c(header, crc);
    }
    if (trailer.readUInt32LE(4) !== trailerMagic) throw new SnapshotCorruptError(path, 'bad trailer magic');
    const stored = trailer.readUInt32LE(0);
    if (stored !== crc) throw new SnapshotCorruptError(path, `CRC32C mismatch: stored ${stored}, computed ${crc}`);
    return { zxid, path, createdMs: Number(header.readBigUInt64LE(32)), meta, image };
  } finally {
    await fh.close();
  }
}

async function readFully(fh: DiskFile, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const bytesRead = await fh.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at ${position + done}`);
    done += bytesRead;
  }
}

/**
 * The newest snapshot whose checksum verifies, or null if there is none. A corrupt one is
 * reported through onCorrupt and the next older one is tried (ZooKeeper tries a few as well).
 */
export async function loadNewestSnapshot(
  disk: Disk,
  snapDir: string,
  options: LoadOptions & { onCorrupt?: (err: SnapshotCorruptError) => void } = {},
): Promise<LoadedSnapshot | null> {
  const files = await listSnapshots(disk, snapDir);
  for (let i = files.length - 1; i >= 0; i--) {
    const f = files[i]!;
    try {
      return await loadSnapshotFile(disk, f.path, f.zxid, options);
    } catch (err) {
      if (!(err instanceof SnapshotCorruptError)) throw err;
      options.onCorrupt?.(err);
    }
  }
  return null;
}
