// The shape of a recorded history: one entry per client operation on a versioned register (a
// znode's data and version), with invocation and completion times and what the client saw.
// Load children write these as JSON lines; the checkers read them.

/** write = setData(key, value, -1); cas = setData(key, value, expectedVersion); read = getData. */
export type OpKind = 'write' | 'cas' | 'read';

/**
 * ok: the client got an answer. failed: the server answered with an error that says the op did
 * not change anything (for a cas, BADVERSION: an observation that the version differed).
 * unknown: timed out or CONNECTIONLOSS: it may or may not have taken effect.
 */
export type Outcome = 'ok' | 'failed' | 'unknown';

export interface HistoryOp {
  /** Unique in one history (assigned by the loader when absent). */
  id: number;
  /** One client session (a new session after expiry gets a new label). */
  session: string;
  /** Issue order within the session: the order the client sent its requests in. */
  seq: number;
  key: string;
  kind: OpKind;
  /** write/cas: the value written. Values are unique per history so a read names its write. */
  value?: string;
  /** cas: the version it was conditional on. */
  expectedVersion?: number;
  /** Invocation and completion on one monotonic clock shared by every process (ms, fractional). */
  start: number;
  /** Completion time; ignored for unknown outcomes (they may take effect any time after start). */
  end: number;
  outcome: Outcome;
  /** ok write/cas: the version the write produced; ok read: the version read. */
  version?: number;
  /** ok read: the value read. */
  readValue?: string;
  /** ok op: Stat.mzxid of the answer (decimal string; bigint does not go through JSON). */
  mzxid?: string;
  /** failed/unknown: the error code the client got. */
  error?: string;
}

/** The register's state: a znode's data and its data version. */
export interface RegisterState {
  value: string;
  version: number;
}

export function describeOp(op: HistoryOp): string {
  const span = op.outcome === 'unknown' ? `[${op.start.toFixed(1)}, ?)` : `[${op.start.toFixed(1)}, ${op.end.toFixed(1)}]`;
  const who = `#${op.id} ${op.session}/${op.seq}`;
  switch (op.kind) {
    case 'write':
      return `${who} write(${op.key}, ${JSON.stringify(op.value)}) -> ${result(op)} ${span}`;
    case 'cas':
      return `${who} cas(${op.key}, ${JSON.stringify(op.value)}, v${op.expectedVersion}) -> ${result(op)} ${span}`;
    case 'read':
      return `${who} read(${op.key}) -> ${op.outcome === 'ok' ? `(${JSON.stringify(op.readValue)}, v${op.version})` : result(op)} ${span}`;
  }
}

function result(op: HistoryOp): string {
  if (op.outcome === 'ok') return `ok v${op.version ?? '?'}${op.mzxid !== undefined ? ` mzxid ${op.mzxid}` : ''}`;
  return `${op.outcome}${op.error !== undefined ? ` ${op.error}` : ''}`;
}
