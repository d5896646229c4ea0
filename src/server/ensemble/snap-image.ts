// A SNAP carries the tree's memory image and the session table (snapshot meta) as one byte
// string: [u32 BE meta length][meta][image]. One copy of the image on the leader; the learner
// reads both parts as views (storage copies the image into the new tree).
import { assert } from '../../common/assert.js';

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
