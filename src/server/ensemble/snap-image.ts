// A SNAP carries the tree's memory image and the session table (snapshot meta) as one byte
// string: [u32 BE meta length][meta][image]. One copy of the image on the leader (the tree's
// image()), read in chunks without joining it to the meta: only the chunk that spans the header
// and the image is copied; the learner reads both parts as views of the buffer it received into.
import { assert } from '../../common/assert.js';
import type { SnapSource } from '../quorum/api.js';

export function snapSource(zxid: bigint, image: Uint8Array, meta: Uint8Array): SnapSource {
  const head = new Uint8Array(4 + meta.byteLength);
  new DataView(head.buffer).setUint32(0, meta.byteLength);
  head.set(meta, 4);
  const totalBytes = head.byteLength + image.byteLength;
  return {
    zxid,
    totalBytes,
    read(offset, maxBytes) {
      const end = Math.min(offset + maxBytes, totalBytes);
      if (offset >= head.byteLength) return image.subarray(offset - head.byteLength, end - head.byteLength);
      const out = new Uint8Array(end - offset);
      const fromHead = head.subarray(offset, Math.min(end, head.byteLength));
      out.set(fromHead, 0);
      if (end > head.byteLength) out.set(image.subarray(0, end - head.byteLength), fromHead.byteLength);
      return out;
    },
  };
}

export function joinSnapImage(image: Uint8Array, meta: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + meta.byteLength + image.byteLength);
  new DataView(out.buffer).setUint32(0, meta.byteLength);
  out.set(meta, 4);
  out.set(image, 4 + meta.byteLength);
  return out;
}

export function splitSnapImage(bytes: Uint8Array): { image: Uint8Array; meta: Uint8Array } {
  assert(bytes.byteLength >= 4, 'a SNAP image has its header');
  const metaBytes = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  assert(4 + metaBytes <= bytes.byteLength, 'a SNAP image holds its meta');
  return { meta: bytes.subarray(4, 4 + metaBytes), image: bytes.subarray(4 + metaBytes) };
}
