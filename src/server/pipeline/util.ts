// Pure helpers of the pipeline: the memory estimate of a txn, catching prep's expected failures,
// and getEphemerals' prefix filter.
import { ZookooperError } from '../../common/errors.js';
import type { ACL } from '../../common/types.js';
import type { WriteResult } from './api.js';
import type { Txn } from './txn.js';

/**
 * An upper bound of the tree memory a txn may allocate: a node record (fixed part + path), its
 * data, a new ACL blob; size classes waste at most 12.5%, hence the factor.
 */
export function txnBytesEstimate(txn: Txn): number {
  if (txn.type === 'createSession') return 0;
  let n = 0;
  for (const op of txn.ops) {
    if (op.type === 'create') n += 256 + 3 * op.path.length + op.data.length + aclBytes(op.acl);
    else if (op.type === 'setData') n += 64 + op.data.length;
    else if (op.type === 'setACL') n += aclBytes(op.acl);
  }
  return Math.ceil(n * 1.25);
}

function aclBytes(acl: readonly ACL[]): number {
  let n = 64;
  for (const a of acl) n += 16 + 3 * (a.scheme.length + a.id.length);
  return n;
}

/** Runs a prep step; an expected failure (ZookooperError) becomes an error result. */
export function attempt(fn: () => void): Extract<WriteResult, { ok: false }> | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (!(err instanceof ZookooperError)) throw err; // a bug: let it stop the process
    const r: Extract<WriteResult, { ok: false }> = { ok: false, code: err.code, message: err.message };
    if (err.path !== undefined) r.path = err.path;
    return r;
  }
}

/** ZooKeeper's getEphemerals filter: '', '/' (or blank) is everything, else a plain string prefix. */
export function filterPrefix(paths: Iterable<string>, prefix: string): string[] {
  const all = prefix.trim() === '' || prefix.trim() === '/';
  const out: string[] = [];
  for (const p of paths) if (all || p.startsWith(prefix)) out.push(p);
  return out.sort();
}
