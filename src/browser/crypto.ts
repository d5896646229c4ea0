// `node:crypto` in the browser bundle: only randomUUID is used (recipes' protected node names).
// crypto.randomUUID exists only in secure contexts (https, localhost); a console opened over
// plain http on another host still needs it, so a v4 UUID is built from getRandomValues, which
// browsers offer everywhere.
export function randomUUID(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
