// A SNAP carries the tree's memory image and the session table (snapshot meta) as one byte
// string: [image][meta][u32 BE meta length]. The image comes first so that a learner receiving
// into a fresh tree buffer (allocTreeImage) has it at offset 0, where the new tree adopts it
// without another copy (first-touching a few hundred MB of fresh memory costs ~1 s on these VMs).
// The leader reads the image from a tree capture (tree/capture.ts: taken at once, read chunk by
// chunk while its writes go on) without joining it to the meta: the chunk that spans the image's
// end and the trailer is assembled from both.
import { assert } from '../../common/assert.js';
import type { SnapSource } from '../quorum/api.js';

function trailerOf(meta: Uint8Array): Uint8Array {
  const tail = new Uint8Array(meta.byteLength + 4);
  tail.set(meta, 0);
  new DataView(tail.buffer).setUint32(meta.byteLength, meta.byteLength);
  return tail;
}

/** The tree part of a SNAP: bytes in memory, or a tree capture read while the leader writes on. */
export interface SnapImage {
  readonly bytes: number;
  /** A stable copy or view of [offset, offset + maxBytes) clipped to the end. */
  read(offset: number, maxBytes: number): Uint8Array;
  close(): void;
}

export function imageInMemory(image: Uint8Array): SnapImage {
  return { bytes: image.byteLength, read: (offset, maxBytes) => image.subarray(offset, Math.min(offset + maxBytes, image.byteLength)), close: () => undefined };
}

export function snapSource(zxid: bigint, image: SnapImage, meta: Uint8Array): SnapSource {
  const tail = trailerOf(meta);
  const imageBytes = image.bytes;
  const totalBytes = imageBytes + tail.byteLength;
  return {
    zxid,
    totalBytes,
    read(offset, maxBytes) {
      const end = Math.min(offset + maxBytes, totalBytes);
      if (end <= imageBytes) return image.read(offset, end - offset);
      if (offset >= imageBytes) return tail.subarray(offset - imageBytes, end - imageBytes);
      const out = new Uint8Array(end - offset);
      out.set(image.read(offset, imageBytes - offset), 0);
      out.set(tail.subarray(0, end - imageBytes), imageBytes - offset);
      return out;
    },
    close: () => image.close(),
  };
}

export function joinSnapImage(image: Uint8Array, meta: Uint8Array): Uint8Array {
  const tail = trailerOf(meta);
  const out = new Uint8Array(image.byteLength + tail.byteLength);
  out.set(image, 0);
  out.set(tail, image.byteLength);
  return out;
}

/** The image as a view at the received buffer's start (adoptable), the meta as a copy (the new
 *  tree may later grow over the bytes it was received in). */
export function splitSnapImage(bytes: Uint8Array): { image: Uint8Array; meta: Uint8Array } {
  assert(bytes.byteLength >= 4, 'a SNAP image has its trailer');
  const metaBytes = new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 4, 4).getUint32(0);
  assert(4 + metaBytes <= bytes.byteLength, 'a SNAP image holds its meta');
  const imageBytes = bytes.byteLength - 4 - metaBytes;
  return { image: bytes.subarray(0, imageBytes), meta: bytes.slice(imageBytes, imageBytes + metaBytes) };
}
