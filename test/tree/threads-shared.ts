// What the writer (threads.test.ts) and the reader workers (reader-worker.ts) agree on.

/** Nodes /t/k0../t/k{K-1} rewritten together in every write window. */
export const K = 8;
/** Ephemeral-like churn: window c creates /t/e{c} and deletes /t/e{c - CHURN}. */
export const CHURN = 3;

/** Slots of the control Int32Array shared with the workers. */
export const S = { STOP: 0, READY: 1, VIOLATIONS: 2, READS: 3, RETRIES: 4 } as const;
/** Bytes of the control buffer: one Int32 per slot of S. */
export const CONTROL_BYTES = 4 * 8;
/** Readers publish their READS/RETRIES progress every this many reads (the writer stops on it). */
export const PUBLISH_EVERY_READS = 1024;

export function dataLength(c: number): number {
  return 8 + ((c * 37) % 300); // changes every window: blocks move between size classes
}

/** The data every /t/k node holds after window c: c as u32 LE, then c & 0xff repeated. */
export function dataFor(c: number): Buffer {
  const b = Buffer.alloc(dataLength(c), c & 0xff);
  b.writeUInt32LE(c >>> 0, 0);
  return b;
}

/** null if (data, version, dataLength) is one untorn state of a /t/k node, else the problem. */
export function checkData(data: Buffer, version: number, statLength: number): string | null {
  if (data.length !== statLength) return `data is ${data.length} bytes, stat says ${statLength}`;
  if (data.length < 8) return `data too short (${data.length})`;
  const c = data.readUInt32LE(0);
  if (data.length !== dataLength(c)) return `data of counter ${c} is ${data.length} bytes, want ${dataLength(c)}`;
  for (let i = 4; i < data.length; i++) {
    if (data[i] !== (c & 0xff)) return `byte ${i} is ${data[i]}, counter ${c}`;
  }
  if (version !== c) return `version ${version} with data of counter ${c}`;
  return null;
}

/** Sorted, comma-joined children of /t after window c. */
export function expectedChildren(c: number): string {
  const names: string[] = [];
  for (let i = 0; i < K; i++) names.push(`k${i}`);
  for (let j = Math.max(1, c - CHURN + 1); j <= c; j++) names.push(`e${j}`);
  return names.sort().join(',');
}
